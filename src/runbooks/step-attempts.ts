// One step of a run, attempt by attempt: bind the inputs, record the attempt as running, run the
// action under the step's timeout, record what came of it, and retry with backoff while
// attempts remain. Every attempt is in the state database before the action starts, so a daemon
// that dies mid-step leaves a `running` row the resume logic (src/runbooks/execute-run.ts) sees.

import { errorMessage } from '../errors.ts';
import { finishAttempt, insertAttempt } from '../store/runbook-runs.ts';
import type { ActionContext, RunbookAction, StepOutputs } from './action.ts';
import { isIdempotent, sleep, StepFailedError } from './action.ts';
import { bindValue } from './bind-values.ts';
import type { LoadedStep } from './loaded-runbook.ts';
import type { StepHistory, StepStatus } from './run-history.ts';
import { retryDelayMs, UNRETRYABLE_PREFIX } from './run-history.ts';
import type { RunSession } from './run-session.ts';
import { partitionRunner } from './partition-runner.ts';

export interface StepResult {
  status: StepStatus;
  outputs: StepOutputs;
  error?: string;
}

/** The run lost its lease to another daemon: stop writing anything for it. */
export class LeaseLostError extends Error {}

interface BoundInputs {
  input: unknown;
  recorded: unknown;
}

/** The step's `with` bound, except the keys its action binds itself (raw, placeholders intact). */
export function bindStepValue(step: LoadedStep, action: RunbookAction<unknown>, variables: Record<string, unknown>): { value: unknown; recorded: unknown } {
  const deferred = action.deferred ?? [];
  if (deferred.length === 0 || step.inputs.kind !== 'map') return bindValue(step.inputs, variables);
  const now = { ...step.inputs, entries: step.inputs.entries.filter(([key]) => !deferred.includes(key)) };
  const bound = bindValue(now, variables) as { value: Record<string, unknown>; recorded: Record<string, unknown> };
  const raw = Object.fromEntries(deferred.filter((key) => key in step.definition.with).map((key) => [key, step.definition.with[key]]));
  return { value: { ...bound.value, ...raw }, recorded: { ...bound.recorded, ...raw } };
}

function bindInputs(step: LoadedStep, action: RunbookAction<unknown>, variables: Record<string, unknown>): BoundInputs | { error: string } {
  try {
    const bound = bindStepValue(step, action, variables);
    const parsed = action.input.safeParse(bound.value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `with.${issue.path.join('.')}: ${issue.message}`).join('; ');
      return { error: `${UNRETRYABLE_PREFIX}${issues}` };
    }
    return { input: parsed.data, recorded: bound.recorded };
  } catch (error) {
    return { error: `${UNRETRYABLE_PREFIX}${errorMessage(error)}` };
  }
}

/** Runs the step's remaining attempts; resolves to its final result. Throws LeaseLostError. */
export async function runStepAttempts(session: RunSession, index: number, history: StepHistory): Promise<StepResult> {
  const step = session.runbook.steps[index] as LoadedStep;
  const maxAttempts = (step.definition.retry?.attempts ?? 1) + (history.interrupted ?? 0);
  let lastFinishedAt = history.lastFinishedAt;
  const stepStartedAt = history.firstStartedAt ?? session.env.now();
  for (let attempt = history.attemptsUsed + 1; ; attempt += 1) {
    if (attempt > 1 && step.definition.retry !== undefined) await waitForRetry(session, step, attempt, lastFinishedAt);
    session.throwIfStopped();
    const result = await runOneAttempt(session, index, attempt, stepStartedAt);
    lastFinishedAt = session.env.now();
    if (result.status !== 'failed' || attempt >= maxAttempts || result.error?.startsWith(UNRETRYABLE_PREFIX) === true) return result;
    session.logger.warn({ step: step.definition.name, attempt, error: result.error }, 'runbook step failed; retrying');
  }
}

async function waitForRetry(session: RunSession, step: LoadedStep, attempt: number, lastFinishedAt: Date | undefined): Promise<void> {
  const delay = retryDelayMs(step.definition.retry as NonNullable<LoadedStep['definition']['retry']>, attempt, session.env.random);
  const elapsed = lastFinishedAt === undefined ? 0 : session.env.now().getTime() - lastFinishedAt.getTime();
  await sleep(delay - elapsed, session.signal);
}

async function runOneAttempt(session: RunSession, index: number, attempt: number, stepStartedAt: Date): Promise<StepResult> {
  const step = session.runbook.steps[index] as LoadedStep;
  const action = session.action(step);
  const startedAt = session.env.now();
  const base = { runId: session.run.id, stepIndex: index, step: step.definition.name, attempt, action: step.definition.action, startedAt };
  const bound = bindInputs(step, action, session.variables());
  if ('error' in bound) {
    await session.record({ ...base, status: 'failed', inputs: null, error: bound.error, finishedAt: startedAt });
    return { status: 'failed', outputs: {}, error: bound.error };
  }
  // Known before the attempt is recorded: a shutdown in between must not cut short a step that
  // is not safe to repeat (the next daemon would find it in flight and escalate).
  session.attemptIdempotent = isIdempotent(action, bound.input);
  let outcome: Awaited<ReturnType<typeof runAction>>;
  try {
    const attemptId = await insertAttempt(session.env.pool, session.owner, { ...base, status: 'running', inputs: bound.recorded });
    if (attemptId === undefined) throw new LeaseLostError(`run ${session.run.id} is no longer held by ${session.owner}`);
    outcome = await runAction(session, step, action, bound.input, { attempt, stepStartedAt });
    await finishAttempt(session.env.pool, attemptId, outcome.interrupted ? 'interrupted' : outcome.result.status, { outputs: outcome.result.outputs, error: outcome.result.error }, session.env.now());
  } finally {
    session.attemptIdempotent = undefined;
  }
  const status = outcome.interrupted ? 'interrupted' : outcome.result.status;
  const seconds = (session.env.now().getTime() - startedAt.getTime()) / 1000;
  session.env.metrics?.runbookStepDuration.observe({ runbook: session.run.runbook, action: step.definition.action, status }, seconds);
  if (outcome.interrupted) session.throwIfStopped();
  return outcome.result;
}

async function runAction(
  session: RunSession,
  step: LoadedStep,
  action: RunbookAction<unknown>,
  input: unknown,
  timing: { attempt: number; stepStartedAt: Date },
): Promise<{ result: StepResult; interrupted: boolean }> {
  const timeout = step.definition.timeout;
  const signal = timeout === undefined ? session.signal : AbortSignal.any([session.signal, AbortSignal.timeout(timeout)]);
  const context: ActionContext = { ...session.actionContext(step, signal, timing), partitions: partitionRunner(session, session.runbook.steps.indexOf(step), step.definition.name, signal) };
  try {
    const outputs = await action.run(input, context);
    return { result: { status: 'succeeded', outputs }, interrupted: false };
  } catch (error) {
    // Stopped from outside (shutdown, lost lease, deadline): the step did not fail on its own.
    const interrupted = session.signal.aborted;
    const timedOut = !interrupted && signal.aborted;
    const message = timedOut ? `timed out after ${step.definition.timeout}ms: ${errorMessage(error)}` : errorMessage(error);
    const outputs = error instanceof StepFailedError ? error.outputs : {};
    return { result: { status: 'failed', outputs, error: message }, interrupted };
  }
}
