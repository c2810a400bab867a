import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateError } from '../../src/errors.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import type { Metrics } from '../../src/telemetry/metrics.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { daemonConfig } from './daemon-config.ts';

async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  return metric?.values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected))?.value;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('startDaemon', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let closedPortUrl: string;

  beforeAll(async () => {
    [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
    await warehouse.pool().query('create table public.orders (id int, loaded_at timestamptz default now()); insert into public.orders (id) values (1)');
    closedPortUrl = `postgres://reader:secret@127.0.0.1:${await freePort()}/analytics`;
  });
  afterAll(async () => {
    await Promise.all([state.drop(), warehouse.drop()]);
  });

  describe('with one warehouse up and one unreachable', () => {
    let daemon: RunningDaemon;
    beforeAll(async () => {
      const config = daemonConfig(state.url, { analytics: warehouse.url, broken: closedPortUrl }, {
        monitors: [{ assets: ['analytics.public.*', 'broken.public.*'], freshness: { column: 'loaded_at' } }],
      });
      daemon = await startDaemon({ config, env: {}, logger: testLogger() });
    });
    afterAll(() => daemon.stop('test finished'));

    it('starts anyway and serves /healthz', async () => {
      expect(daemon.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${daemon.httpUrl}/healthz`)).status).toBe(200);
    });

    it('answers /readyz 503 naming the unreachable warehouse with a typed code', async () => {
      const response = await fetch(`${daemon.httpUrl}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        status: 'not_ready',
        state_db: { status: 'up' },
        warehouses: { analytics: { status: 'up' }, broken: { status: 'down', code: 'warehouse_unreachable' } },
      });
      expect(JSON.stringify(body)).not.toContain('secret');
      expect(await metricValue(daemon.metrics, 'pipewarden_warehouse_up', { warehouse: 'broken' })).toBe(0);
      expect(await metricValue(daemon.metrics, 'pipewarden_warehouse_up', { warehouse: 'analytics' })).toBe(1);
      expect(await metricValue(daemon.metrics, 'pipewarden_state_db_up')).toBe(1);
    });

    it('runs the first sweep at start, records findings, and keeps serving', async () => {
      await until(async () => (await metricValue(daemon.metrics, 'pipewarden_job_runs_total', { job: 'sweep', outcome: 'ok' })) === 1, 20_000);
      expect(await metricValue(daemon.metrics, 'pipewarden_tables_monitored', { warehouse: 'analytics' })).toBe(1);
      expect(await metricValue(daemon.metrics, 'pipewarden_findings', { kind: 'freshness', status: 'error' })).toBeGreaterThanOrEqual(1);
      const findings = await state.pool().query<{ asset: string; status: string }>('select asset, status from findings order by asset');
      expect(findings.rows).toContainEqual(expect.objectContaining({ asset: 'analytics.public.orders' }));
      expect(findings.rows.some((row) => row.asset.startsWith('broken.') && row.status === 'error')).toBe(true);
      expect((await fetch(`${daemon.httpUrl}/healthz`)).status).toBe(200);
      const metricsText = await (await fetch(`${daemon.httpUrl}/metrics`)).text();
      expect(metricsText).toMatch(/^pipewarden_last_sweep_timestamp_seconds\{warehouse="analytics"\} \d+/m);
    });
  });

  it('stops cleanly: HTTP closed, stop idempotent, stopped settles', async () => {
    const config = daemonConfig(state.url, { analytics: warehouse.url });
    const daemon = await startDaemon({ config, env: {}, logger: testLogger() });
    await until(async () => (await metricValue(daemon.metrics, 'pipewarden_job_runs_total', { job: 'sweep', outcome: 'ok' })) === 1, 20_000);
    const [first, second] = await Promise.all([daemon.stop('test'), daemon.stop('again')]);
    expect(first).toBe('finished');
    expect(second).toBe('finished');
    expect(await daemon.stopped).toBe('finished');
    await expect(fetch(`${daemon.httpUrl}/healthz`)).rejects.toThrow();
  });

  it('fails fast with a StateError when the state database is unreachable', async () => {
    const config = daemonConfig(`postgres://pw:pw@127.0.0.1:${await freePort()}/pipewarden`, { analytics: warehouse.url });
    const attempt = startDaemon({ config, env: {}, logger: testLogger() });
    await expect(attempt).rejects.toBeInstanceOf(StateError);
    await expect(attempt).rejects.toMatchObject({ code: 'state_unreachable' });
  });

  it('fails with a clear error when the HTTP port is taken, releasing the state database', async () => {
    const first = await startDaemon({ config: daemonConfig(state.url, { analytics: warehouse.url }), env: {}, logger: testLogger() });
    try {
      const port = Number(new URL(first.httpUrl).port);
      const config = daemonConfig(state.url, { analytics: warehouse.url }, { server: { host: '127.0.0.1', port } });
      await expect(startDaemon({ config, env: {}, logger: testLogger() })).rejects.toMatchObject({ code: 'http_listen_failed' });
    } finally {
      await first.stop('test');
    }
  });
});
