// Polls a probe until it yields a value: for tests that wait on a daemon or a server doing
// something in the background, where there is no event to await.

import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves with the first value `probe` returns that is not undefined; throws naming `what` once `timeoutMs` has passed. */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
