// Where a run stands, from its recorded attempts alone: which steps are done (and with what
// outputs), how many attempts a step has used, and which attempt was in flight when a daemon
// died. Pure, so the resume rules are tested without killing anything.

import type { AttemptRow } from '../store/runbook-runs.ts';

export type StepStatus = 'succeeded' | 'failed' | 'skipped';

export interface StepHistory {
  /** The step's final state, when it reached one. A failed step with attempts left is not final. */
  final?: { status: StepStatus; outputs: Record<string, unknown>; error?: string | undefined };
  attemptsUsed: number;
  /** Attempts cut short by a stopped daemon: they do not use up the step's retries. */
  interrupted?: number;
  firstStartedAt?: Date;
  lastFinishedAt?: Date;
  /** An attempt recorded as started and never finished: its daemon died or was stopped. */
  inFlight?: AttemptRow;
}

/** The step-level attempts (partition ''), grouped by step index, in order. */
export function stepHistories(attempts: readonly AttemptRow[], stepCount: number, maxAttempts: (index: number) => number): StepHistory[] {
  const histories: StepHistory[] = Array.from({ length: stepCount }, () => ({ attemptsUsed: 0 }));
  for (const attempt of attempts) {
    if (attempt.partition !== '') continue;
    const history = histories[attempt.step_index];
    if (history === undefined) continue;
    history.attemptsUsed = Math.max(history.attemptsUsed, attempt.attempt);
    history.firstStartedAt ??= attempt.started_at;
    if (attempt.finished_at !== null) history.lastFinishedAt = attempt.finished_at;
    applyAttempt(history, attempt, maxAttempts(attempt.step_index));
  }
  return histories;
}

function applyAttempt(history: StepHistory, attempt: AttemptRow, maxAttempts: number): void {
  delete history.inFlight;
  const outputs = attempt.outputs ?? {};
  switch (attempt.status) {
    case 'running':
    case 'interrupted':
      history.inFlight = attempt;
      history.interrupted = (history.interrupted ?? 0) + 1;
      return;
    case 'succeeded':
    case 'skipped':
      history.final = { status: attempt.status, outputs };
      return;
    case 'failed':
      // A failure whose error says it cannot heal (bad inputs) is final at once.
      if (attempt.attempt >= maxAttempts + (history.interrupted ?? 0) || attempt.error?.startsWith(UNRETRYABLE_PREFIX) === true) {
        history.final = { status: 'failed', outputs, error: attempt.error ?? undefined };
      }
      return;
  }
}

/** Errors recorded with this prefix are not retried: the same inputs would fail the same way. */
export const UNRETRYABLE_PREFIX = 'inputs: ';

/** What `${steps.NAME…}` shows for a finished step: its outputs, its status, and `outcome`. */
export function stepVariables(status: StepStatus, outputs: Record<string, unknown>, error?: string): Record<string, unknown> {
  return { ...outputs, status, outcome: outputs.outcome ?? status, ...(error === undefined ? {} : { error }) };
}

/** The delay before attempt `next` (2 or more): doubling from the first delay up to the cap, with jitter. */
export function retryDelayMs(policy: { backoff: { initialMs: number; maxMs: number }; jitter: number }, next: number, random: () => number = Math.random): number {
  const base = Math.min(policy.backoff.maxMs, policy.backoff.initialMs * 2 ** Math.max(0, next - 2));
  return Math.round(base * (1 - policy.jitter * random()));
}
