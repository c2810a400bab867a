// Backfill on a real state database with real processes: partitions from a range, bounded
// concurrency, progress, per-partition records, and a resumed run that does only the rest.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandRange } from '../../src/runbooks/actions/backfill.ts';
import { claimRuns, insertAttempt } from '../../src/store/runbook-runs.ts';
import { openRunbookTestRuntime } from './runbook-test-runtime.ts';
import type { RunbookTestRuntime } from './runbook-test-runtime.ts';

const NODE = process.execPath;
// Appends "<partition> start|end" around a short sleep, tracking how many run at once; fails for the partition named in FAIL_ON.
const FILL = [
  "const fs=require('fs');const [log,p]=process.argv.slice(1);",
  "fs.appendFileSync(log,p+' start'+String.fromCharCode(10));",
  "setTimeout(()=>{fs.appendFileSync(log,p+' end'+String.fromCharCode(10));process.exit(process.env.FAIL_ON===p?1:0)},150)",
].join('');

function backfillRunbook(name: string, source: string, idempotent = false): string {
  return `name: ${name}
params:
  log: { type: string }
  fail_on: { type: string, default: "none" }
steps:
  - name: fill
    action: backfill
    with:
      ${source}
      concurrency: 2
      step:
        action: command
        with:
          argv: ["${NODE}", "-e", "${FILL}", "\${params.log}", "\${partition}"]
          env: { FAIL_ON: "\${params.fail_on}" }
          idempotent: ${idempotent}
`;
}

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'days.yaml': backfillRunbook('days', 'range: { from: "2025-11-01", to: "2025-11-05", every: 1d }'),
    'listed.yaml': backfillRunbook('listed', 'partitions: "${finding.missing}"'),
    'resumable.yaml': backfillRunbook('resumable', 'partitions: ["a", "b", "c", "d"]', true),
    'once.yaml': backfillRunbook('once', 'partitions: ["a", "b", "c", "d"]', false),
  });
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

async function lines(file: string): Promise<string[]> {
  return existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean) : [];
}

function mostAtOnce(log: string[]): number {
  let running = 0;
  let most = 0;
  for (const line of log) {
    running += line.endsWith(' start') ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

describe('backfill', () => {
  it('expands a range of days into plain dates and refuses a reversed one', () => {
    expect(expandRange({ from: '2025-11-30', to: '2025-12-02', every: 86_400_000 }).map((partition) => partition.key)).toEqual(['2025-11-30', '2025-12-01', '2025-12-02']);
    expect(expandRange({ from: '2025-11-30T00:00:00Z', to: '2025-11-30T02:00:00Z', every: 3_600_000 })[1]).toEqual({ key: '2025-11-30T01:00:00.000Z', end: '2025-11-30T02:00:00.000Z' });
    expect(() => expandRange({ from: '2025-12-02', to: '2025-11-30', every: 86_400_000 })).toThrow(/before range.from/);
  });

  it('fills every partition once, at most `concurrency` at a time, and records progress', async () => {
    const log = join(rt.folder, 'days.log');
    const run = await rt.start('days', { params: { log } });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'succeeded' });
    const written = await lines(log);
    expect(written.filter((line) => line.endsWith(' end')).map((line) => line.split(' ')[0]).sort()).toEqual(['2025-11-01', '2025-11-02', '2025-11-03', '2025-11-04', '2025-11-05']);
    expect(mostAtOnce(written)).toBe(2);
    expect((await rt.run(run.id)).progress).toMatchObject({ done: 5, total: 5 });
    const partitions = (await rt.attempts(run.id)).filter((attempt) => attempt.partition !== '');
    expect(partitions).toHaveLength(5);
    expect(partitions.every((attempt) => attempt.status === 'succeeded')).toBe(true);
  });

  it('takes partitions from the finding, each one a single argv element however hostile', async () => {
    const log = join(rt.folder, 'listed.log');
    const hostile = 'x"; $(touch /tmp/pw-backfill-pwned) `id`';
    const finding = { check: 'volume:wh.public.orders', kind: 'volume', asset: 'wh.public.orders', status: 'fail', observed: 0, message: 'gap', missing: ['2025-11-02', hostile] };
    const run = await rt.start('listed', { params: { log }, finding: finding as never });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'succeeded' });
    expect((await lines(log)).filter((line) => line.endsWith(' end')).sort()).toEqual([`2025-11-02 end`, `${hostile} end`].sort());
    expect(existsSync('/tmp/pw-backfill-pwned')).toBe(false);
  });

  it('fails the step naming the partition that failed, after finishing the others in flight', async () => {
    const log = join(rt.folder, 'failing.log');
    const run = await rt.start('days', { params: { log, fail_on: '2025-11-02' } });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'failed' });
    expect((await rt.run(run.id)).outcome).toMatch(/failed: 2025-11-02/);
    expect((await lines(log)).filter((line) => line.endsWith(' start')).length).toBeLessThan(5);
  });
});

describe('a backfill resumed after its daemon died', () => {
  /** Partitions a and b done, c in flight, d never started; the dead daemon's lease lapsed. */
  async function leftBehind(name: string, log: string): Promise<string> {
    const run = await rt.start(name, { params: { log } });
    const pool = rt.runtime.state.pool;
    await claimRuns(pool, 'dead-daemon', new Date(Date.now() - 10_000), 1_000, 50);
    const at = new Date(Date.now() - 9_000);
    const base = { runId: run.id, stepIndex: 0, step: 'fill', attempt: 1, inputs: {}, startedAt: at };
    await insertAttempt(pool, 'dead-daemon', { ...base, action: 'backfill', status: 'running' });
    for (const partition of ['a', 'b']) await insertAttempt(pool, 'dead-daemon', { ...base, action: 'command', partition, status: 'succeeded', finishedAt: at });
    await insertAttempt(pool, 'dead-daemon', { ...base, action: 'command', partition: 'c', status: 'running' });
    return run.id;
  }

  it('does only the partitions not yet done, redoing an idempotent one that was in flight', async () => {
    const log = join(rt.folder, 'resumable.log');
    const id = await leftBehind('resumable', log);
    expect(await rt.execute(id, 'new-daemon')).toMatchObject({ status: 'succeeded' });
    expect((await lines(log)).filter((line) => line.endsWith(' end')).sort()).toEqual(['c end', 'd end']);
  });

  it('does not redo a non-idempotent partition that was in flight, and says so', async () => {
    const log = join(rt.folder, 'once.log');
    const id = await leftBehind('once', log);
    expect(await rt.execute(id, 'new-daemon')).toMatchObject({ status: 'failed' });
    expect((await lines(log)).some((line) => line.startsWith('c '))).toBe(false);
    expect((await rt.run(id)).outcome).toMatch(/partition c \(command\) was in flight .* may have half-happened/);
  });
});
