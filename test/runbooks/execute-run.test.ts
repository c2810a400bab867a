// The executor on a real state database with real processes: order, outputs between steps,
// conditions, retries, failure policies, timeouts, secrets, hostile values, and resuming a run
// whose daemon died — without ever repeating a finished step or a non-idempotent one.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRuns, insertAttempt } from '../../src/store/runbook-runs.ts';
import { openRunbookTestRuntime } from './runbook-test-runtime.ts';
import type { RunbookTestRuntime } from './runbook-test-runtime.ts';

const NODE = process.execPath;

// A program that appends its argv to a log file (one JSON line per run) and exits with a code.
const LOGGER_SCRIPT = "const fs=require('fs');fs.appendFileSync(process.argv[1],JSON.stringify(process.argv.slice(2))+String.fromCharCode(10));process.stdout.write('out:'+process.argv.slice(2).join('|'));process.exit(Number(process.env.EXIT_CODE||0))";
// Fails until it has been called N times (counted in a file), then succeeds.
const FLAKY_SCRIPT = "const fs=require('fs');const f=process.argv[1];const n=fs.existsSync(f)?Number(fs.readFileSync(f,'utf8')):0;fs.writeFileSync(f,String(n+1));process.exit(n+1>=Number(process.argv[2])?0:3)";

function runbook(name: string, steps: string, extra = ''): string {
  return `name: ${name}\n${extra}steps:\n${steps}`;
}

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'ordered.yaml': runbook(
      'ordered',
      `  - name: first
    action: command
    with: { argv: ["${NODE}", "-e", "${LOGGER_SCRIPT.replaceAll('"', '\\"')}", "\${params.log}", "one", "\${finding.message}"] }
  - name: skipped
    action: command
    if: "params.log == 'never'"
    with: { argv: ["${NODE}", "-e", "process.exit(9)"] }
  - name: second
    action: command
    with: { argv: ["${NODE}", "-e", "${LOGGER_SCRIPT.replaceAll('"', '\\"')}", "\${params.log}", "\${steps.first.stdout_tail}", "\${steps.skipped.status}"] }
`,
      'params:\n  log: { type: string }\n',
    ),
    'flaky.yaml': runbook(
      'flaky',
      `  - name: flaky
    action: command
    with: { argv: ["${NODE}", "-e", "${FLAKY_SCRIPT}", "\${params.counter}", "\${params.succeed_on}"] }
    retry: { attempts: 3, backoff: "10ms..40ms" }
`,
      'params:\n  counter: { type: string }\n  succeed_on: { type: int }\n',
    ),
    'policies.yaml': runbook(
      'policies',
      `  - name: tolerated
    action: command
    on_failure: continue
    with: { argv: ["${NODE}", "-e", "process.exit(4)"] }
  - name: decides
    action: command
    on_failure: \${params.policy}
    with: { argv: ["${NODE}", "-e", "process.exit(5)"] }
  - name: after
    action: notify
    with: { text: "reached the end after \${steps.tolerated.status}" }
`.replace('on_failure: ${params.policy}', 'on_failure: abort'),
    ),
    'escalating.yaml': runbook(
      'escalating',
      `  - name: decides
    action: command
    on_failure: escalate
    with: { argv: ["${NODE}", "-e", "process.exit(5)"] }
`,
    ),
    'slow.yaml': runbook(
      'slow',
      `  - name: sleepy
    action: command
    timeout: 300ms
    with: { argv: ["${NODE}", "-e", "setTimeout(() => {}, 30000)"] }
`,
    ),
    'secret.yaml': runbook(
      'secret',
      `  - name: call
    action: command
    with:
      argv: ["${NODE}", "-e", "process.exit(process.env.TOKEN.split('').reverse().join('') === 'eulav-t3rc3s' ? 0 : 7)"]
      env: { TOKEN: "\${secrets.api_token}" }
`,
    ),
    'resume.yaml': runbook(
      'resume',
      `  - name: done-before
    action: command
    with: { argv: ["${NODE}", "-e", "${LOGGER_SCRIPT.replaceAll('"', '\\"')}", "\${params.log}", "done-before"] }
  - name: in-flight
    action: command
    with: { argv: ["${NODE}", "-e", "${LOGGER_SCRIPT.replaceAll('"', '\\"')}", "\${params.log}", "in-flight"], idempotent: "\${params.idempotent}" }
  - name: last
    action: command
    with: { argv: ["${NODE}", "-e", "${LOGGER_SCRIPT.replaceAll('"', '\\"')}", "\${params.log}", "last"] }
`,
      'params:\n  log: { type: string }\n  idempotent: { type: bool }\n',
    ),
  }, { runbooks: { secrets: { api_token: 's3cr3t-value' } } });
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

async function logLines(file: string): Promise<string[][]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]);
}

describe('executing a run', () => {
  it('runs steps in order, skips a false condition, and hands outputs to later steps; hostile values stay one argv element', async () => {
    const log = join(rt.folder, 'ordered.log');
    const hostile = 'x"; drop table y; -- $(touch /tmp/pw-pwned) `touch /tmp/pw-pwned2`';
    const run = await rt.start('ordered', { params: { log }, finding: { check: 'freshness:wh.public.orders', kind: 'freshness', asset: 'wh.public.orders', status: 'fail', observed: 1, message: hostile } });
    expect(await rt.execute(run.id)).toEqual({ status: 'succeeded', outcome: expect.stringMatching(/^steps/) });
    expect(await logLines(log)).toEqual([
      ['one', hostile],
      [`out:one|${hostile}`, 'skipped'],
    ]);
    expect(existsSync('/tmp/pw-pwned') || existsSync('/tmp/pw-pwned2')).toBe(false);
    const attempts = await rt.attempts(run.id);
    expect(attempts.map((attempt) => [attempt.step, attempt.status])).toEqual([
      ['first', 'succeeded'],
      ['skipped', 'skipped'],
      ['second', 'succeeded'],
    ]);
    // The bound inputs are recorded as they were used.
    expect((attempts[0]?.inputs as { argv: string[] }).argv.at(-1)).toBe(hostile);
  });

  it('retries a failing step with backoff until it succeeds', async () => {
    const counter = join(rt.folder, 'flaky-3.count');
    const run = await rt.start('flaky', { params: { counter, succeed_on: '3' } });
    expect(await rt.execute(run.id)).toEqual({ status: 'succeeded', outcome: expect.stringMatching(/^steps/) });
    const attempts = await rt.attempts(run.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    // The second attempt waited at least the jittered first delay (10ms × (1 − 0.5)).
    expect(attempts[1]!.started_at.getTime() - attempts[0]!.finished_at!.getTime()).toBeGreaterThanOrEqual(4);
  });

  it('gives up after the last attempt and fails the run', async () => {
    const run = await rt.start('flaky', { params: { counter: join(rt.folder, 'flaky-9.count'), succeed_on: 9 } });
    const end = await rt.execute(run.id);
    expect(end).toMatchObject({ status: 'failed' });
    expect((await rt.run(run.id)).outcome).toMatch(/step "flaky" \(command\) failed: .*exit.*3/);
    expect(await rt.attempts(run.id)).toHaveLength(3);
  });

  it('continues past a tolerated failure and stops at an aborting one', async () => {
    const run = await rt.start('policies');
    expect(await rt.execute(run.id)).toMatchObject({ status: 'failed' });
    const attempts = await rt.attempts(run.id);
    expect(attempts.map((attempt) => [attempt.step, attempt.status])).toEqual([
      ['tolerated', 'failed'],
      ['decides', 'failed'],
    ]);
  });

  it('escalates when a step says so', async () => {
    const run = await rt.start('escalating');
    expect(await rt.execute(run.id)).toMatchObject({ status: 'escalated' });
  });

  it('kills a step that outlives its timeout and records why', async () => {
    const started = Date.now();
    const run = await rt.start('slow');
    expect(await rt.execute(run.id)).toMatchObject({ status: 'failed' });
    expect(Date.now() - started).toBeLessThan(15_000);
    const [attempt] = await rt.attempts(run.id);
    expect(attempt?.error).toMatch(/timed out/);
  });

  it('passes secrets to the step but never records them', async () => {
    const run = await rt.start('secret');
    expect(await rt.execute(run.id)).toEqual({ status: 'succeeded', outcome: expect.stringMatching(/^steps/) });
    const [attempt] = await rt.attempts(run.id);
    expect(JSON.stringify(attempt?.inputs)).not.toContain('s3cr3t-value');
    expect((attempt?.inputs as { env: Record<string, string> }).env.TOKEN).toBe('[secret]');
  });

  it('stops and escalates at the deadline', async () => {
    const run = await rt.start('slow', { deadlineAt: new Date(Date.now() + 100) });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'escalated' });
    expect((await rt.run(run.id)).outcome).toMatch(/deadline .* passed/);
  });
});

describe('resuming a run whose daemon died', () => {
  /** A run as a dead daemon left it: step 0 done, step 1 started and never finished, lease lapsed. */
  async function leftBehind(idempotent: boolean, log: string): Promise<string> {
    const run = await rt.start('resume', { params: { log, idempotent } });
    const pool = rt.runtime.state.pool;
    const [claimed] = await claimRuns(pool, 'dead-daemon', new Date(Date.now() - 10_000), 1_000, 50);
    expect(claimed?.id).toBe(run.id);
    const at = new Date(Date.now() - 9_000);
    await insertAttempt(pool, 'dead-daemon', { runId: run.id, stepIndex: 0, step: 'done-before', attempt: 1, action: 'command', status: 'succeeded', inputs: {}, outputs: { exit_code: 0 }, startedAt: at, finishedAt: at });
    await insertAttempt(pool, 'dead-daemon', { runId: run.id, stepIndex: 1, step: 'in-flight', attempt: 1, action: 'command', status: 'running', inputs: { argv: ['in-flight'] }, startedAt: at });
    return run.id;
  }

  it('repeats an idempotent step that was in flight, and never a finished one', async () => {
    const log = join(rt.folder, 'resume-idempotent.log');
    const id = await leftBehind(true, log);
    expect(await rt.execute(id, 'new-daemon')).toEqual({ status: 'succeeded', outcome: expect.stringMatching(/^steps/) });
    expect(await logLines(log)).toEqual([['in-flight'], ['last']]);
    const attempts = await rt.attempts(id);
    expect(attempts.map((attempt) => [attempt.step, attempt.attempt, attempt.status])).toEqual([
      ['done-before', 1, 'succeeded'],
      ['in-flight', 1, 'interrupted'],
      ['in-flight', 2, 'succeeded'],
      ['last', 1, 'succeeded'],
    ]);
  });

  it('does not repeat a non-idempotent step that was in flight: it escalates saying what may have half-happened', async () => {
    const log = join(rt.folder, 'resume-once.log');
    const id = await leftBehind(false, log);
    expect(await rt.execute(id, 'new-daemon')).toMatchObject({ status: 'escalated' });
    expect(await logLines(log)).toEqual([]);
    const run = await rt.run(id);
    expect(run.outcome).toMatch(/step "in-flight" \(command\) was in flight .* not idempotent, so it may have half-happened/);
    expect(run.outcome).toContain('"argv":["in-flight"]');
  });

  it("never claims again a run its daemon is still executing, even when that run's lease lapsed", async () => {
    const run = await rt.start('secret');
    const pool = rt.runtime.state.pool;
    const past = new Date(Date.now() - 10_000);
    expect((await claimRuns(pool, 'busy-daemon', past, 1_000, 50)).map((claimed) => claimed.id)).toContain(run.id);
    // The lease lapsed 9 s ago (its heartbeats failed); the daemon still executes it.
    expect((await claimRuns(pool, 'busy-daemon', new Date(), 1_000, 50, [run.id])).map((claimed) => claimed.id)).not.toContain(run.id);
    expect((await claimRuns(pool, 'other-daemon', new Date(), 1_000, 50)).map((claimed) => claimed.id)).toContain(run.id);
  });

  it('refuses the writes of a daemon that lost its lease to another', async () => {
    const run = await rt.start('secret');
    const pool = rt.runtime.state.pool;
    await claimRuns(pool, 'old-daemon', new Date(Date.now() - 10_000), 1_000, 50);
    await claimRuns(pool, 'new-daemon', new Date(), 60_000, 50);
    expect(await insertAttempt(pool, 'old-daemon', { runId: run.id, stepIndex: 0, step: 'call', attempt: 1, action: 'command', status: 'running', inputs: {}, startedAt: new Date() })).toBeUndefined();
    expect(await rt.attempts(run.id)).toEqual([]);
  });
});
