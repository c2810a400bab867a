// Durable runbook runs across SIGKILL, on real `pipewarden start` processes: runs are parked at
// every step boundary and inside every step (idempotent and not), the daemon is killed with
// SIGKILL, a fresh one is started, and every run must finish or escalate — no finished step runs
// twice, a non-idempotent step in flight is never repeated (the run escalates saying so), an
// idempotent one is repeated and finishes, and a run past its deadline does not stay `running`.
// Then two daemons at once share several runs and every step runs exactly once overall.
//
// How runs are parked (all in one daemon, so one SIGKILL hits every kill point at once):
// - inside step k: the step's script (fixtures/kill/step.mjs) keeps working while a hold file
//   exists, so its attempt stays `running` and its log shows "start" without "end";
// - at the boundary after step k < 4: the test holds an uncommitted attempt row with step k+1's
//   key, so the daemon's own insert of step k+1's attempt waits on it: step k is `succeeded`
//   and step k+1 has not been recorded or started;
// - at the boundary after the last step: the test row-locks the run while step 4 finishes, so
//   step 4 is `succeeded` and the run's own end (finishRun) waits.
// After the SIGKILL the dead daemon's waiting statements are terminated (what Postgres does by
// itself once it notices the client is gone) before the test lets go of its locks.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ACTIONS } from '../../src/runbooks/actions/registry.ts';
import { loadRunbooksOrThrow } from '../../src/runbooks/load-runbooks.ts';
import type { LoadedRunbook } from '../../src/runbooks/loaded-runbook.ts';
import { startRun } from '../../src/runbooks/start-run.ts';
import { selectAttempts, selectRun, type AttemptRow, type RunRow } from '../../src/store/runbook-runs.ts';
import { daemonConfigInput } from '../daemon/daemon-config.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const BIN = path.join(import.meta.dirname, '../../bin/pipewarden.js');
const FIXTURES = path.join(import.meta.dirname, 'fixtures/kill');
const STEPS = ['s1', 's2', 's3', 's4'] as const;
const DEFAULT_IDEMPOTENT = [true, false, true, false];

let state: TestDatabase;
let warehouse: TestDatabase;
let dir: string;
let runbook: LoadedRunbook;
const children: { child: ChildProcess; output: string[] }[] = [];

interface Daemon {
  child: ChildProcess;
  output: string[];
}

function startDaemon(configFile: string): Daemon {
  const child = spawn(process.execPath, [BIN, 'start', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon = { child, output: [] as string[] };
  child.stdout?.on('data', (chunk: Buffer) => daemon.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => daemon.output.push(chunk.toString()));
  children.push(daemon);
  return daemon;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, daemons: Daemon[] = []): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > giveUp) {
      const logs = daemons.map((daemon, index) => `--- daemon ${index} (exit ${daemon.child.exitCode ?? daemon.child.signalCode}) ---\n${daemon.output.join('').slice(-4_000)}`).join('\n');
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}\n${logs}`);
    }
    await sleep(25);
  }
}

async function writeConfig(name: string, runbooks: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, name);
  const config = daemonConfigInput(state.url, { wh: warehouse.url }, {
    notifications: { console: false },
    runbooks: { folder: FIXTURES, lease: '1s', ...runbooks },
    shutdown_timeout: '2s',
  });
  await writeFile(file, stringify(config));
  return file;
}

interface KillRun {
  name: string;
  id: string;
  log: string;
  idempotent: boolean[];
}

async function queue(name: string, options: { idempotent?: boolean[]; hold?: { step: string; file: string }; sleepMs?: number } = {}): Promise<KillRun> {
  const idempotent = options.idempotent ?? DEFAULT_IDEMPOTENT;
  const log = path.join(dir, `${name}.log`);
  const run = await startRun(state.pool(), runbook, {
    asset: 'wh.public.orders',
    startedBy: 'kill-test',
    now: new Date(),
    params: {
      node: process.execPath,
      log,
      tag: name,
      sleep_ms: String(options.sleepMs ?? 300),
      ...(options.hold ? { hold_step: options.hold.step, hold_file: options.hold.file } : {}),
      ...Object.fromEntries(idempotent.map((value, index) => [`idem${index + 1}`, value])),
    },
  });
  return { name, id: run.id, log, idempotent };
}

async function logLines(file: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

function count(lines: readonly string[], what: 'start' | 'end', step: string): number {
  return lines.filter((line) => line.startsWith(`${what} ${step} `)).length;
}

const attemptsOf = (run: KillRun): Promise<AttemptRow[]> => selectAttempts(state.pool(), run.id);
const runRow = async (run: KillRun): Promise<RunRow> => (await selectRun(state.pool(), run.id)) as RunRow;

function stepStatus(attempts: readonly AttemptRow[], index: number): AttemptRow['status'] | undefined {
  return attempts.filter((attempt) => attempt.step_index === index).at(-1)?.status;
}

const transactions: pg.Client[] = [];

/** An open transaction on a connection of its own (not the pool's), rolled back by releaseTransactions(). */
async function openTransaction(): Promise<{ client: pg.Client }> {
  const client = new pg.Client({ connectionString: state.url, options: `-c search_path=${state.schema}` });
  client.on('error', () => undefined);
  await client.connect();
  transactions.push(client);
  await client.query('BEGIN');
  return { client };
}

async function releaseTransactions(): Promise<void> {
  for (const client of transactions.splice(0)) {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Backends of the killed daemon still waiting on the test's locks: end them as Postgres would. */
async function terminateWaitingBackends(): Promise<void> {
  await state.pool().query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
  await waitFor('the killed daemon\'s waiting statements to end', async () => {
    const { rows } = await state.pool().query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    return rows[0]?.n === 0;
  }, 10_000);
}

interface Snapshot {
  attempts: AttemptRow[];
  lines: string[];
  status: RunRow['status'];
}

/** What the kill left: a step is `done` (succeeded before the kill), `inFlight` (running) or not started. */
function killCase(snapshot: Snapshot): string {
  const parts = STEPS.map((step, index) => {
    const status = stepStatus(snapshot.attempts, index);
    return status === undefined ? undefined : `${step}:${status}`;
  }).filter(Boolean);
  return `${parts.join(' ') || 'nothing recorded'} (run ${snapshot.status})`;
}

/** The properties every run must have after the restart, whatever the kill point was. */
async function checkResumed(run: KillRun, snapshot: Snapshot): Promise<void> {
  const row = await runRow(run);
  const attempts = await attemptsOf(run);
  const lines = await logLines(run.log);
  const where = `${run.name} (killed at ${killCase(snapshot)}; outcome: ${row.outcome})`;
  expect(['succeeded', 'escalated'], where).toContain(row.status);
  expect(row.lease_owner, where).toBeNull();
  const inFlight = STEPS.findIndex((_, index) => stepStatus(snapshot.attempts, index) === 'running');
  for (const [index, step] of STEPS.entries()) {
    // A step that ended before the kill — by the log or by its record — never starts again.
    if (count(snapshot.lines, 'end', step) > 0 || stepStatus(snapshot.attempts, index) === 'succeeded') {
      expect(count(lines, 'start', step), `${where}: ${step} finished before the kill`).toBe(1);
    }
    if (index === inFlight) continue;
    expect(count(lines, 'start', step), `${where}: ${step}`).toBeLessThanOrEqual(1);
  }
  if (inFlight >= 0) {
    const step = STEPS[inFlight] as string;
    const interrupted = attempts.find((attempt) => attempt.step_index === inFlight && attempt.attempt === 1);
    expect(interrupted?.status, where).toBe('interrupted');
    if (run.idempotent[inFlight] === true) {
      // Repeated (the orphaned first copy may also have finished: it was let go before the restart).
      expect(count(lines, 'start', step), `${where}: idempotent ${step} in flight`).toBe(2);
      // It finished, unless the run's deadline stopped the repeat.
      expect(stepStatus(attempts, inFlight), where).toBe(row.outcome?.startsWith('deadline') === true ? 'interrupted' : 'succeeded');
    } else {
      expect(count(lines, 'start', step), `${where}: non-idempotent ${step} in flight`).toBe(1);
      expect(row.status, where).toBe('escalated');
      expect(row.outcome, where).toContain(`step "${step}"`);
      expect(row.outcome, where).toContain('may have half-happened');
      expect(attempts.filter((attempt) => attempt.step_index === inFlight), where).toHaveLength(1);
      for (const later of STEPS.slice(inFlight + 1)) expect(count(lines, 'start', later), `${where}: ${later} after the escalation`).toBe(0);
    }
  }
  if (row.status === 'succeeded') {
    for (const step of STEPS) expect(count(lines, 'end', step), `${where}: ${step}`).toBeGreaterThanOrEqual(1);
    expect(STEPS.map((_, index) => stepStatus(attempts, index)), where).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  }
}

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-run-kill-'));
  const loaded = await loadRunbooksOrThrow(FIXTURES, ACTIONS);
  runbook = loaded.find((candidate) => candidate.definition.name === 'kill-test') as LoadedRunbook;
}, 30_000);

afterAll(async () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(({ child }) => exited(child)));
  if (state) await releaseTransactions();
  // Let go of any step script still parked on a hold file, then clean up.
  if (dir) {
    for (const file of ['hold', 'hold-deadline', ...STEPS.map((_, index) => `hold-after-${index}`)]) await unlink(path.join(dir, file)).catch(() => undefined);
    await sleep(100);
  }
  await Promise.all([state?.drop(), warehouse?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('runbook runs across a SIGKILL of their daemon', () => {
  it('after a restart, every run parked at a step boundary or inside a step finishes or escalates, repeating only idempotent in-flight steps', async () => {
    const started = Date.now();
    const hold = path.join(dir, 'hold');
    const holdDeadline = path.join(dir, 'hold-deadline');
    await Promise.all([hold, holdDeadline].map((file) => writeFile(file, '')));
    const flipped = DEFAULT_IDEMPOTENT.map((value) => !value);
    const allOnce = [false, false, false, false];

    // Boundary runs are parked inside step k first (a hold file of their own), then made to
    // stop right after it: the blocker is taken only once the daemon holds the run, because an
    // uncommitted attempt row key-share-locks its run and claiming (SKIP LOCKED) would pass it by.
    const boundary: KillRun[] = [];
    for (const [index, step] of STEPS.entries()) {
      boundary.push(await queue(`after-${step}`, { idempotent: allOnce, hold: { step, file: path.join(dir, `hold-after-${index}`) } }));
    }
    const inside: KillRun[] = [];
    for (const step of STEPS) {
      inside.push(await queue(`inside-${step}`, { hold: { step, file: hold } }));
      inside.push(await queue(`inside-${step}-flipped`, { idempotent: flipped, hold: { step, file: hold } }));
    }
    const overdue = await queue('deadline', { hold: { step: 's3', file: holdDeadline } });
    const all = [...boundary, ...inside, overdue];
    await Promise.all(boundary.map((_, index) => writeFile(path.join(dir, `hold-after-${index}`), '')));

    // Exactly as many slots as runs: while the last boundary's row lock stalls the heartbeat, the
    // daemon must not claim its own lapsed runs a second time (see the report on this test).
    const config = await writeConfig('kill.yaml', { concurrency: all.length });
    const first = startDaemon(config);
    const parked = async (run: KillRun, index: number): Promise<boolean> =>
      stepStatus(await attemptsOf(run), index) === 'running' && count(await logLines(run.log), 'start', STEPS[index] as string) === 1;
    for (const [index, run] of inside.entries()) await waitFor(`${run.name} to be inside its step`, () => parked(run, Math.floor(index / 2)), 60_000, [first]);
    await waitFor('deadline to be inside s3', () => parked(overdue, 2), 60_000, [first]);
    for (const [index, run] of boundary.entries()) {
      await waitFor(`${run.name} to be inside ${STEPS[index]}`, () => parked(run, index), 60_000, [first]);
      const blocker = await openTransaction();
      if (index < STEPS.length - 1) {
        // The daemon's insert of the next step's attempt waits on this uncommitted row.
        await blocker.client.query("INSERT INTO runbook_step_attempts (run_id, step_index, step, attempt, action, status, started_at) VALUES ($1, $2, $3, 1, 'command', 'running', now())", [run.id, index + 1, STEPS[index + 1]]);
      } else {
        // After the last step, the run's own end (an update of its row) waits on this lock.
        await blocker.client.query('SELECT 1 FROM runbook_runs WHERE id = $1 FOR NO KEY UPDATE', [run.id]);
      }
      await unlink(path.join(dir, `hold-after-${index}`));
      await waitFor(`${run.name} to finish ${STEPS[index]}`, async () => stepStatus(await attemptsOf(run), index) === 'succeeded', 30_000, [first]);
    }
    const parkedAt = Date.now();

    first.child.kill('SIGKILL');
    await exited(first.child);
    const snapshots = new Map<string, Snapshot>();
    for (const run of all) snapshots.set(run.name, { attempts: await attemptsOf(run), lines: await logLines(run.log), status: (await runRow(run)).status });
    await terminateWaitingBackends();
    await releaseTransactions();

    // The kill points were the ones aimed at.
    for (const [index, run] of boundary.entries()) {
      const snapshot = snapshots.get(run.name) as Snapshot;
      expect(STEPS.map((_, step) => stepStatus(snapshot.attempts, step)), run.name).toEqual(STEPS.map((_, step) => (step <= index ? 'succeeded' : undefined)));
      expect(snapshot.lines.filter((line) => line.startsWith('start')), run.name).toHaveLength(index + 1);
    }
    expect(snapshots.get('after-s4')?.status).toBe('running');
    for (const [index, run] of inside.entries()) {
      const snapshot = snapshots.get(run.name) as Snapshot;
      const k = Math.floor(index / 2);
      expect(STEPS.map((_, step) => stepStatus(snapshot.attempts, step)), run.name).toEqual(STEPS.map((_, step) => (step < k ? 'succeeded' : step === k ? 'running' : undefined)));
      expect(count(snapshot.lines, 'end', STEPS[k] as string), run.name).toBe(0);
    }

    // The dead daemon's orphaned step scripts are let go (they finish on their own, as a real
    // program would); the deadline run is made overdue soon, while its repeated s3 still works.
    await unlink(hold);
    await state.pool().query("UPDATE runbook_runs SET deadline_at = now() + interval '4 seconds' WHERE id = $1", [overdue.id]);
    const restartedAt = Date.now();
    const second = startDaemon(config);
    await waitFor(
      'every run to end after the restart',
      async () => {
        const { rows } = await state.pool().query<{ n: number }>("SELECT count(*)::int AS n FROM runbook_runs WHERE id = ANY($1::bigint[]) AND status IN ('queued', 'running')", [all.map((run) => run.id)]);
        return rows[0]?.n === 0;
      },
      45_000,
      [second],
    );
    const endedAt = Date.now();
    // Orphaned copies of in-flight steps get a moment to write their "end" lines.
    await sleep(300);

    for (const run of all) await checkResumed(run, snapshots.get(run.name) as Snapshot);
    const statuses = Object.fromEntries(await Promise.all(all.map(async (run) => [run.name, (await runRow(run)).status] as const)));
    expect(statuses).toEqual({
      'after-s1': 'succeeded',
      'after-s2': 'succeeded',
      'after-s3': 'succeeded',
      'after-s4': 'succeeded',
      'inside-s1': 'succeeded',
      'inside-s1-flipped': 'escalated',
      'inside-s2': 'escalated',
      'inside-s2-flipped': 'succeeded',
      'inside-s3': 'succeeded',
      'inside-s3-flipped': 'escalated',
      'inside-s4': 'escalated',
      'inside-s4-flipped': 'succeeded',
      deadline: 'escalated',
    });
    // A run that resumed into a long step does not stay running past its deadline.
    const late = await runRow(overdue);
    expect(late.outcome).toMatch(/^deadline .* passed during step "s3"/);
    expect(late.finished_at!.getTime() - late.deadline_at.getTime()).toBeGreaterThanOrEqual(0);
    expect(late.finished_at!.getTime() - late.deadline_at.getTime()).toBeLessThan(3_000);
    // The last boundary: s4 had finished, so the resumed run only had to record its end.
    expect((await attemptsOf(boundary[3] as KillRun)).map((attempt) => [attempt.step, attempt.status])).toEqual(STEPS.map((step) => [step, 'succeeded']));

    second.child.kill('SIGTERM');
    await exited(second.child);
    console.info(`kill test: parked ${all.length} runs in ${parkedAt - started}ms; all ended ${endedAt - restartedAt}ms after the restart`);
  }, 150_000);

  it('two daemons at once share the queued runs, and every step runs exactly once overall', async () => {
    // A lease longer than a loaded machine's heartbeat hiccups: this test is about sharing, not takeover.
    const config = await writeConfig('pair.yaml', { concurrency: 2, lease: '5s' });
    const daemons = [startDaemon(config), startDaemon(config)];
    for (const daemon of daemons) await waitFor('a daemon to start', () => Promise.resolve(daemon.output.join('').includes('pipewarden started')), 30_000, daemons);
    const runs: KillRun[] = [];
    // Enough work that both daemons' claim passes (every 2 s) find some queued.
    for (let index = 0; index < 8; index += 1) runs.push(await queue(`pair-${index}`, { idempotent: [false, false, false, false], sleepMs: 500 }));
    const owners = new Set<string>();
    await waitFor(
      'every shared run to end',
      async () => {
        const { rows } = await state.pool().query<{ status: string; lease_owner: string | null }>('SELECT status, lease_owner FROM runbook_runs WHERE id = ANY($1::bigint[])', [runs.map((run) => run.id)]);
        for (const row of rows) if (row.lease_owner !== null) owners.add(row.lease_owner);
        return rows.every((row) => row.status !== 'queued' && row.status !== 'running');
      },
      60_000,
      daemons,
    );
    // Both daemons took part.
    expect(owners.size).toBe(2);
    for (const run of runs) {
      expect((await runRow(run)).status, run.name).toBe('succeeded');
      const lines = await logLines(run.log);
      for (const step of STEPS) {
        expect(count(lines, 'start', step), `${run.name} ${step}`).toBe(1);
        expect(count(lines, 'end', step), `${run.name} ${step}`).toBe(1);
      }
      expect((await attemptsOf(run)).map((attempt) => [attempt.step, attempt.attempt, attempt.status])).toEqual(STEPS.map((step) => [step, 1, 'succeeded']));
    }
    for (const daemon of daemons) daemon.child.kill('SIGTERM');
    await Promise.all(daemons.map((daemon) => exited(daemon.child)));
  }, 90_000);
});
