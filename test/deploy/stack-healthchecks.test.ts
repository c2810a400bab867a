// The healthchecks of the stack, run as Docker would run them (exec form, no shell) against
// pipewarden's real health routes: the image's on /healthz passes even while a dependency is
// down (so the container is not restarted for a warehouse outage); compose's on /readyz does not.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountHealthRoutes } from '../../src/http/health-routes.ts';
import type { ReadinessReport } from '../../src/http/readiness.ts';
import { HttpServer } from '../../src/http/server.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';
import { composeService, readRepoDockerfile } from './stack-config.ts';
import { readCompose, runProgram } from './stack-files.ts';
import type { ComposeFile } from './stack-files.ts';

let compose: ComposeFile;

beforeAll(async () => {
  compose = await readCompose();
});

describe('healthchecks against pipewarden\'s real routes', () => {
  const metrics = new Metrics();
  const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics, maxBodyBytes: 1024 });
  let ready = true;
  let port = '';
  const report = (): ReadinessReport => ({
    status: ready ? 'ready' : 'not_ready',
    state_db: { status: 'up', duration_ms: 1 },
    warehouses: { warehouse: ready ? { status: 'up', duration_ms: 1 } : { status: 'down', code: 'warehouse_unreachable', duration_ms: 1 } },
  });

  beforeAll(async () => {
    mountHealthRoutes(server, { metrics, readiness: () => Promise.resolve(report()) });
    port = new URL(await server.listen()).port;
  });
  afterAll(() => server.close(1_000));

  /** Runs a healthcheck's exec-form command, pointed at the test server's port instead of 9464. */
  function runHealthcheck(command: readonly string[]): Promise<{ code: number }> {
    const [program, ...args] = command.map((arg) => arg.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
    expect(program).toBe('node');
    return runProgram(process.execPath, args);
  }

  it('the image HEALTHCHECK passes on /healthz, even while not ready', async () => {
    const { healthcheck } = await readRepoDockerfile();
    ready = false;
    expect((await runHealthcheck(healthcheck)).code).toBe(0);
  });

  it('the compose healthcheck passes when ready and fails when a dependency is down', async () => {
    const test = composeService(compose, 'pipewarden').healthcheck?.test;
    expect(Array.isArray(test) && test[0] === 'CMD').toBe(true);
    const command = (test as string[]).slice(1);
    ready = true;
    expect((await runHealthcheck(command)).code).toBe(0);
    ready = false;
    expect((await runHealthcheck(command)).code).toBe(1);
  });
});

