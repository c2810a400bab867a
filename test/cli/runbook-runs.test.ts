// `pipewarden runbook run` executing for real, and what follows a run, through the real CLI on a
// real state database with real processes: a run prints its steps and outcome and exits 0 only
// when it succeeded; `runs` and `show` as JSON; approve/reject recorded once; cancel of a queued
// run and of a running one (whose executor then stops); Ctrl-C releasing a run for a daemon.

import { spawn } from 'node:child_process';
import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const NODE = process.execPath;
const USER = `cli:${userInfo().username}`;
const WRITE_ARGS = "require('fs').writeFileSync(process.argv[1],JSON.stringify(process.argv.slice(2)));process.stdout.write('wrote '+process.argv[2])";
const BIN = path.resolve(import.meta.dirname, '../../bin/pipewarden.js');

let state: TestDatabase;
let dir: string;

const cli = (...args: string[]) => runCliCaptured(args, { env: { DATABASE_URL: state.url }, cwd: dir });

const RUNBOOKS: Record<string, unknown> = {
  writes: {
    name: 'writes',
    params: { out: { type: 'string' } },
    steps: [
      { name: 'write', action: 'command', with: { argv: [NODE, '-e', WRITE_ARGS, '${params.out}', '${asset.key}', '${incident.id}'] } },
      { name: 'after', action: 'command', if: "steps.write.stdout_tail.startsWith('wrote')", with: { argv: [NODE, '-e', 'process.exit(0)'] } },
    ],
  },
  fails: { name: 'fails', steps: [{ name: 'boom', action: 'command', with: { argv: [NODE, '-e', 'process.exit(3)'] } }] },
  asks: {
    name: 'asks',
    steps: [
      { name: 'confirm', action: 'approve', with: { message: 'go on?' } },
      { name: 'go', action: 'command', with: { argv: [NODE, '-e', 'process.exit(0)'] } },
    ],
  },
  slow: { name: 'slow', steps: [{ name: 'sleep', action: 'command', with: { argv: [NODE, '-e', 'setTimeout(() => {}, 60000)'] } }] },
  'slow-safe': { name: 'slow-safe', steps: [{ name: 'sleep', action: 'command', with: { argv: [NODE, '-e', 'setTimeout(() => {}, 60000)'], idempotent: true } }] },
  careful: {
    name: 'careful',
    steps: [
      { name: 'load', action: 'command', with: { argv: [NODE, '-e', 'setTimeout(() => {}, 1500)'] } },
      { name: 'pause', action: 'wait', with: { for: '30s' } },
      { name: 'never', action: 'command', with: { argv: [NODE, '-e', 'process.exit(0)'] } },
    ],
  },
};

beforeAll(async () => {
  state = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-cli-runbook-runs-'));
  await mkdir(path.join(dir, 'runbooks'));
  for (const [name, runbook] of Object.entries(RUNBOOKS)) await writeFile(path.join(dir, 'runbooks', `${name}.yaml`), stringify(runbook));
  const config = {
    warehouses: { wh: { type: 'postgres', url: 'postgres://127.0.0.1:1/warehouse' } },
    state: { url: '${DATABASE_URL}' },
    runbooks: { folder: './runbooks', lease: '900ms' },
  };
  await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(config));
});

afterAll(async () => {
  await state?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function openIncident(asset: string): Promise<string> {
  const { rows } = await state.pool().query<{ id: string }>(
    `INSERT INTO pipewarden.incidents (check_id, kind, asset, dedup_key, status, severity, opened_at, last_notified_at, last_finding)
     VALUES ($1, 'freshness', $2, $1, 'open', 'critical', now(), now(), $3) RETURNING id`,
    [`freshness:${asset}`, asset, JSON.stringify({ check: `freshness:${asset}`, kind: 'freshness', asset, status: 'fail', observed: 1, message: 'stale' })],
  );
  return String(rows[0]?.id);
}

async function queue(name: string): Promise<string> {
  const queued = await cli('runbook', 'run', name, '--asset', 'wh.raw.stock', '--no-wait', '--json');
  expect(queued.code, queued.stderr).toBe(0);
  return (JSON.parse(queued.stdout) as { run: { id: string } }).run.id;
}

async function runStatus(id: string): Promise<string> {
  const { rows } = await state.pool().query<{ status: string }>('SELECT status FROM pipewarden.runbook_runs WHERE id = $1', [id]);
  return rows[0]?.status ?? 'missing';
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('pipewarden runbook run (executing here)', () => {
  it('executes each step, prints it as it finishes and the outcome, exits 0, and attaches the asset’s incident', async () => {
    const incident = await openIncident('wh.raw.orders');
    const out = path.join(dir, 'written.json');
    const ran = await cli('runbook', 'run', 'writes', '--asset', 'wh.raw.orders', '--param', `out=${out}`);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^run #(\d+) of writes started\nstep write \(command\) attempt 1 succeeded, \d+ ms\nstep after \(command\) attempt 1 succeeded, \d+ ms\nrun #\1 succeeded: steps: 2 succeeded\n$/);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(['wh.raw.orders', incident]);
    const { rows } = await state.pool().query('SELECT status, started_by, incident_id::text, lease_owner FROM pipewarden.runbook_runs ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toEqual({ status: 'succeeded', started_by: USER, incident_id: incident, lease_owner: null });
  });

  it('exits 1 and prints why when the run fails', async () => {
    const ran = await cli('runbook', 'run', 'fails', '--asset', 'wh.raw.stock');
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/step boom \(command\) attempt 1 failed, \d+ ms: .*3.*\nrun #\d+ failed: step "boom" \(command\) failed: .*3/);
    const json = await cli('runbook', 'run', 'fails', '--asset', 'wh.raw.stock', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ run: { runbook: 'fails', status: 'failed', startedBy: USER }, attempts: [{ step: 'boom', attempt: 1, status: 'failed', error: expect.stringContaining('3') }] });
  });

  it('with --no-wait only queues the run for the daemon', async () => {
    const queued = await cli('runbook', 'run', 'fails', '--asset', 'wh.raw.stock', '--no-wait');
    expect(queued.code, queued.stderr).toBe(0);
    const id = /^queued run #(\d+) of fails; the daemon \(pipewarden start\) will execute it/.exec(queued.stdout)?.[1] as string;
    expect(await runStatus(id)).toBe('queued');
  });
});

describe('pipewarden runbook runs and show', () => {
  it('lists runs newest first and shows one with its step attempts, as JSON', async () => {
    const runs = await cli('runbook', 'runs', '--limit', '2', '--json');
    expect(runs.code, runs.stderr).toBe(0);
    const { runs: listed } = JSON.parse(runs.stdout) as { runs: Array<Record<string, unknown>> };
    expect(listed).toHaveLength(2);
    expect(Object.keys(listed[0] as object).sort()).toEqual(['asset', 'createdAt', 'currentStep', 'deadlineAt', 'finishedAt', 'id', 'incidentId', 'outcome', 'params', 'runbook', 'startedAt', 'startedBy', 'status'].sort());
    expect(Number(listed[0]?.id)).toBeGreaterThan(Number(listed[1]?.id));
    const { rows } = await state.pool().query<{ id: string }>("SELECT id::text FROM pipewarden.runbook_runs WHERE runbook = 'writes'");
    const shown = await cli('runbook', 'show', rows[0]?.id as string, '--json');
    const { run, attempts } = JSON.parse(shown.stdout) as { run: Record<string, unknown>; attempts: Array<Record<string, unknown>> };
    expect(run).toMatchObject({ id: rows[0]?.id, runbook: 'writes', asset: 'wh.raw.orders', status: 'succeeded', startedBy: USER, outcome: 'steps: 2 succeeded' });
    expect(attempts.map((attempt) => [attempt.step, attempt.attempt, attempt.status])).toEqual([
      ['write', 1, 'succeeded'],
      ['after', 1, 'succeeded'],
    ]);
    expect(attempts[0]).toMatchObject({ action: 'command', error: null, inputs: { argv: expect.arrayContaining(['wh.raw.orders']) }, outputs: { exit_code: 0, stdout_tail: 'wrote wh.raw.orders' } });
    expect(typeof attempts[0]?.durationMs).toBe('number');
    const text = await cli('runbook', 'show', rows[0]?.id as string);
    expect(text.stdout).toMatch(/step write \(command\) attempt 1 succeeded, \d+ ms\n {6}inputs: .*\n {6}outputs: .*wrote wh\.raw\.orders/);
    for (const id of ['424242', "1; DROP TABLE pipewarden.runbook_runs"]) {
      const missing = await cli('runbook', 'show', id);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`error [run_not_found]: No runbook run #${id}.`);
    }
  });
});

describe('pipewarden runbook approve / reject', () => {
  it('records the first decision once and says when one already stood', async () => {
    const id = await queue('asks');
    const approved = await cli('runbook', 'approve', id, 'confirm', '--comment', 'looked at it');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`step confirm of run #${id} approved by ${USER}\n`);
    const again = await cli('runbook', 'approve', id, 'confirm');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^step confirm of run #${id} was already approved by ${USER} at .*; that decision stands and nothing changed\n$`));
    const rejected = await cli('runbook', 'reject', id, 'confirm');
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('was already approved');
    const { rows } = await state.pool().query('SELECT step, decision, decided_by, comment FROM pipewarden.runbook_approvals WHERE run_id = $1', [id]);
    expect(rows).toEqual([{ step: 'confirm', decision: 'approved', decided_by: USER, comment: 'looked at it' }]);
    const unknown = await cli('runbook', 'approve', id, 'go');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`run #${id} (asks) has no approve step "go"; its approve steps are: confirm`);
  });

  it('records a rejection', async () => {
    const id = await queue('asks');
    expect((await cli('runbook', 'reject', id, 'confirm')).stdout).toBe(`step confirm of run #${id} rejected by ${USER}\n`);
    const { rows } = await state.pool().query('SELECT decision FROM pipewarden.runbook_approvals WHERE run_id = $1', [id]);
    expect(rows).toEqual([{ decision: 'rejected' }]);
  });
  it('records nothing for a run that already ended', async () => {
    const id = await queue('asks');
    expect((await cli('runbook', 'cancel', id)).code).toBe(0);
    const late = await cli('runbook', 'approve', id, 'confirm');
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`run #${id} already ended (cancelled); a decision would change nothing, so none was recorded`);
    expect((await state.pool().query('SELECT 1 FROM pipewarden.runbook_approvals WHERE run_id = $1', [id])).rows).toEqual([]);
  });
});

describe('pipewarden runbook cancel', () => {
  it('cancels a queued run once; a second cancel exits 1', async () => {
    const id = await queue('fails');
    const cancelled = await cli('runbook', 'cancel', id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(await runStatus(id)).toBe('cancelled');
    const again = await cli('runbook', 'cancel', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run #${id} already ended (cancelled); nothing to cancel`);
  });

  it('cancels a running run: the process executing it loses its lease and stops', async () => {
    const started = Date.now();
    const running = cli('runbook', 'run', 'slow', '--asset', 'wh.raw.stock');
    let id = '';
    await until(async () => {
      const { rows } = await state.pool().query<{ id: string }>("SELECT run_id::text AS id FROM pipewarden.runbook_step_attempts a JOIN pipewarden.runbook_runs r ON r.id = a.run_id WHERE r.runbook = 'slow' AND a.status = 'running'");
      id = rows[0]?.id ?? '';
      return id !== '';
    }, 'the slow step runs');
    expect((await cli('runbook', 'cancel', id)).code).toBe(0);
    const ended = await running;
    expect(ended.code).toBe(1);
    expect(ended.stdout).toContain(`run #${id} cancelled: cancelled by ${USER}`);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await runStatus(id)).toBe('cancelled');
  });
});

/** `pipewarden runbook run NAME` as its own process, stopped with SIGINT once its first step runs. */
async function interruptedRun(name: string, asset: string): Promise<{ id: string; code: number | null; stdout: string; stderr: string }> {
  const child = spawn(NODE, [BIN, 'runbook', 'run', name, '--asset', asset], { cwd: dir, env: { ...process.env, DATABASE_URL: state.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let id = '';
  await until(async () => {
    const { rows } = await state.pool().query<{ id: string }>("SELECT r.id::text AS id FROM pipewarden.runbook_runs r JOIN pipewarden.runbook_step_attempts a ON r.id = a.run_id WHERE r.asset = $1 AND a.status = 'running'", [asset]);
    id = rows[0]?.id ?? '';
    return id !== '';
  }, 'the first step runs in the child');
  child.kill('SIGINT');
  return { id, code: await exited, ...output };
}

async function releasedRun(id: string): Promise<{ status: string; released: boolean; attempts: string[][] }> {
  const { rows } = await state.pool().query<{ status: string; released: boolean }>('SELECT status, lease_expires_at <= now() AS released FROM pipewarden.runbook_runs WHERE id = $1', [id]);
  const attempts = await state.pool().query<{ step: string; status: string }>('SELECT step, status FROM pipewarden.runbook_step_attempts WHERE run_id = $1 ORDER BY id', [id]);
  return { ...(rows[0] as { status: string; released: boolean }), attempts: attempts.rows.map((row) => [row.step, row.status]) };
}

describe('Ctrl-C during pipewarden runbook run', () => {
  it('stops a step that is safe to repeat at once and releases the run for a daemon to resume', async () => {
    const ended = await interruptedRun('slow-safe', 'wh.raw.ctrl-c');
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`stopping run #${ended.id} and releasing it for a daemon to resume`);
    expect(ended.stdout).toContain(`run #${ended.id} stopped before it ended; it was released and a daemon (pipewarden start) resumes it`);
    expect(await releasedRun(ended.id)).toEqual({ status: 'running', released: true, attempts: [['sleep', 'interrupted']] });
  });

  it('lets a step that is not safe to repeat finish, then stops before the next', async () => {
    const ended = await interruptedRun('careful', 'wh.raw.careful');
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`stopping run #${ended.id} once step load ends: it is not safe to repeat`);
    const released = await releasedRun(ended.id);
    expect(released).toMatchObject({ status: 'running', released: true });
    expect(released.attempts[0]).toEqual(['load', 'succeeded']);
    expect(released.attempts.map(([step]) => step)).not.toContain('never');
  });
});
