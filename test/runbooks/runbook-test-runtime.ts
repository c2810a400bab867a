// A real runtime for runbook tests: a migrated state database of its own, the runbooks written to
// a folder of their own, and the runbook runtime the daemon uses (loader, executor environment,
// paging through the incident outbox). Runs are driven step by step through claimRuns and
// executeRun, so a test decides when a "daemon" claims and when it dies.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema.ts';
import { configSchema } from '../../src/config/schema.ts';
import { executeRun } from '../../src/runbooks/execute-run.ts';
import type { RunEnd } from '../../src/runbooks/execute-run.ts';
import { openRunbookRuntime } from '../../src/runbooks/runbook-runtime.ts';
import type { RunbookRuntime } from '../../src/runbooks/runbook-runtime.ts';
import { startRun } from '../../src/runbooks/start-run.ts';
import type { RunRequest } from '../../src/runbooks/start-run.ts';
import { openRuntime } from '../../src/runtime.ts';
import type { Runtime } from '../../src/runtime.ts';
import { claimRuns, selectAttempts, selectRun } from '../../src/store/runbook-runs.ts';
import type { AttemptRow, RunRow } from '../../src/store/runbook-runs.ts';
import { createBlankDatabase, createTestDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { testLogger } from '../helpers/logger.ts';

export interface RunbookTestRuntime {
  runtime: Runtime;
  runbooks: RunbookRuntime;
  state: TestDatabase;
  warehouse: TestDatabase;
  folder: string;
  /** Queues a run of the named runbook. */
  start(name: string, request?: Partial<RunRequest>): Promise<RunRow>;
  /** Claims the run as `owner` and executes it to its end (or until it is stopped). */
  execute(runId: string, owner?: string): Promise<RunEnd>;
  attempts(runId: string): Promise<AttemptRow[]>;
  run(runId: string): Promise<RunRow>;
  close(): Promise<void>;
}

/** `runbooks` maps file names to YAML text; the folder is world-readable for spawned programs. */
export async function openRunbookTestRuntime(runbooks: Record<string, string>, extra: Partial<ConfigInput> = {}): Promise<RunbookTestRuntime> {
  const folder = await mkdtemp(join(tmpdir(), 'pw-runbooks-'));
  await chmod(folder, 0o755);
  await mkdir(folder, { recursive: true });
  for (const [name, text] of Object.entries(runbooks)) await writeFile(join(folder, name), text);
  const [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  const config = configSchema.parse({
    warehouses: { wh: { type: 'postgres', url: warehouse.url, write_url: warehouse.url, connect_timeout: '2s' } },
    state: { url: state.url },
    ...extra,
    runbooks: { folder, lease: '2s', ...extra.runbooks },
  });
  const runtime = await openRuntime({ config, logger: testLogger() });
  const opened = await openRunbookRuntime(runtime, { owner: 'test-daemon' });
  const pool = runtime.state.pool;
  return {
    runtime,
    runbooks: opened,
    state,
    warehouse,
    folder,
    async start(name, request = {}) {
      const runbook = opened.find(name);
      if (runbook === undefined) throw new Error(`no runbook ${name} in the test folder`);
      return startRun(pool, runbook, { asset: 'wh.public.orders', startedBy: 'test', now: new Date(), ...request });
    },
    async execute(runId, owner = 'test-daemon') {
      const [claimed] = (await claimRuns(pool, owner, new Date(), 2_000, 50)).filter((run) => run.id === runId);
      if (claimed === undefined) throw new Error(`run ${runId} could not be claimed`);
      return executeRun(opened.environment, claimed, owner);
    },
    attempts: (runId) => selectAttempts(pool, runId),
    run: async (runId) => (await selectRun(pool, runId)) as RunRow,
    async close() {
      await opened.close();
      await runtime.close();
      await Promise.all([state.drop(), warehouse.drop()]);
      await rm(folder, { recursive: true, force: true });
    },
  };
}
