// The executor loop on a real state database: it claims queued runs by itself, and on shutdown
// releases at once a run that waits in a step safe to repeat (an approval), while it lets a step
// that is not safe to repeat finish — cutting that one short would leave it half-done.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRunbookTestRuntime } from './runbook-test-runtime.ts';
import type { RunbookTestRuntime } from './runbook-test-runtime.ts';

const NODE = process.execPath;

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'waits.yaml': `name: waits
steps:
  - name: ask
    action: approve
    with: { message: "go on?", timeout: 10m, poll: 100ms }
`,
    'slow-once.yaml': `name: slow-once
steps:
  - name: once
    action: command
    with: { argv: ["${NODE}", "-e", "setTimeout(() => {}, 1500)"] }
`,
  });
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await probe()); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
  }
}

describe('the runbook executor', () => {
  it('releases a waiting run at once on shutdown, and lets a step that is not safe to repeat finish', async () => {
    const waiting = await rt.start('waits');
    const slow = await rt.start('slow-once');
    const executor = rt.runbooks.executor;
    executor.start();
    const running = async (id: string) => (await rt.attempts(id)).some((attempt) => attempt.status === 'running');
    await until(async () => (await running(waiting.id)) && (await running(slow.id)), 'both runs starting their step');

    const stopping = Date.now();
    await executor.stopAndDrain(new Date(Date.now() + 20_000));
    // Not the 20 s deadline: only the 1.5 s command was waited for.
    expect(Date.now() - stopping).toBeLessThan(5_000);

    expect(await rt.run(slow.id)).toMatchObject({ status: 'succeeded' });
    const released = await rt.run(waiting.id);
    expect(released).toMatchObject({ status: 'running' });
    expect(released.lease_expires_at!.getTime()).toBeLessThanOrEqual(Date.now());
    expect((await rt.attempts(waiting.id)).map((attempt) => attempt.status)).toEqual(['interrupted']);

    // The next daemon picks the approval up where it was: approved, the run finishes.
    await rt.runtime.state.pool.query("INSERT INTO runbook_approvals (run_id, step, decision, decided_by, decided_at) VALUES ($1, 'ask', 'approved', 'cli:test', now())", [waiting.id]);
    expect(await rt.execute(waiting.id, 'next-daemon')).toMatchObject({ status: 'succeeded' });
    expect((await rt.attempts(waiting.id)).map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 'interrupted'],
      [2, 'succeeded'],
    ]);
  }, 30_000);
});
