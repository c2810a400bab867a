// Runs one partition's inner step for a backfill: binds its inputs with `${partition}`, records
// every attempt under the partition's key, retries per the inner step's policy, and on resume
// reads back what an earlier daemon did — a finished partition is never redone, an in-flight one
// only when its action is idempotent.

import { errorMessage } from '../errors.ts';
import type { AttemptRow } from '../store/runbook-runs.ts';
import { finishAttempt, insertAttempt, selectAttempts } from '../store/runbook-runs.ts';
import type { InnerStepSpec, PartitionResult, PartitionRunner, PartitionSpec, RunbookAction } from './action.ts';
import { isIdempotent, sleep, StepFailedError } from './action.ts';
import { bindValue, compileValue } from './bind-values.ts';
import { retryDelayMs } from './run-history.ts';
import type { RunSession } from './run-session.ts';
import type { ActionName } from './runbook-schema.ts';
import { LeaseLostError } from './step-attempts.ts';

interface PartitionHistory {
  attemptsUsed: number;
  inFlight?: AttemptRow;
  succeeded: boolean;
}

function partitionHistory(attempts: readonly AttemptRow[]): PartitionHistory {
  const history: PartitionHistory = { attemptsUsed: 0, succeeded: false };
  for (const attempt of attempts) {
    history.attemptsUsed = Math.max(history.attemptsUsed, attempt.attempt);
    if (attempt.status === 'running' || attempt.status === 'interrupted') history.inFlight = attempt;
    else delete history.inFlight;
    if (attempt.status === 'succeeded') history.succeeded = true;
  }
  return history;
}

export function partitionRunner(session: RunSession, stepIndex: number, stepName: string, signal: AbortSignal): PartitionRunner {
  const attemptsOf = async (key?: string): Promise<AttemptRow[]> =>
    (await selectAttempts(session.env.pool, session.run.id)).filter((attempt) => attempt.step_index === stepIndex && attempt.partition !== '' && (key === undefined || attempt.partition === key));
  return {
    async completed() {
      return new Set((await attemptsOf()).filter((attempt) => attempt.status === 'succeeded').map((attempt) => attempt.partition));
    },
    async run(partition, step) {
      const history = partitionHistory(await attemptsOf(partition.key));
      if (history.succeeded) return { status: 'succeeded', outputs: {} };
      const action = session.env.actions.get(step.action as ActionName);
      if (action === undefined) return { status: 'failed', outputs: {}, error: `action ${step.action} is not available in this build` };
      const bound = bindPartition(session, step, partition, action);
      if ('error' in bound) return { status: 'failed', outputs: {}, error: bound.error };
      if (history.inFlight !== undefined) {
        if (history.inFlight.status === 'running') await finishAttempt(session.env.pool, history.inFlight.id, 'interrupted', { error: 'the daemon running this attempt stopped before it finished' }, session.env.now());
        if (!isIdempotent(action, bound.input)) {
          return { status: 'failed', outputs: {}, error: `partition ${partition.key} (${step.action}) was in flight when its daemon stopped; it is not idempotent, so it may have half-happened and was not repeated` };
        }
      }
      return runAttempts({ session, stepIndex, stepName, signal }, partition, step, action, bound, history.attemptsUsed);
    },
  };
}

interface Bound {
  input: unknown;
  recorded: unknown;
}

function bindPartition(session: RunSession, step: InnerStepSpec, partition: PartitionSpec, action: RunbookAction<unknown>): Bound | { error: string } {
  try {
    const extra = { partition: partition.key, ...(partition.end === undefined ? {} : { partition_end: partition.end }) };
    const bound = bindValue(compileValue(step.with, ['step', 'with']), session.variables(extra));
    const parsed = action.input.safeParse(bound.value);
    if (!parsed.success) return { error: `inputs: ${parsed.error.issues.map((issue) => `step.with.${issue.path.join('.')}: ${issue.message}`).join('; ')}` };
    return { input: parsed.data, recorded: bound.recorded };
  } catch (error) {
    return { error: `inputs: ${errorMessage(error)}` };
  }
}

interface Where {
  session: RunSession;
  stepIndex: number;
  stepName: string;
  signal: AbortSignal;
}

async function runAttempts(where: Where, partition: PartitionSpec, step: InnerStepSpec, action: RunbookAction<unknown>, bound: Bound, used: number): Promise<PartitionResult> {
  const { session } = where;
  const maxAttempts = used + (step.retry?.attempts ?? 1);
  let result: PartitionResult = { status: 'failed', outputs: {} };
  for (let attempt = used + 1; attempt <= maxAttempts && !where.signal.aborted; attempt += 1) {
    if (attempt > used + 1 && step.retry !== undefined) await sleep(retryDelayMs(step.retry, attempt - used, session.env.random), where.signal);
    result = await runOnce(where, partition, step, action, bound, attempt);
    if (result.status === 'succeeded') return result;
  }
  return result;
}

async function runOnce(where: Where, partition: PartitionSpec, step: InnerStepSpec, action: RunbookAction<unknown>, bound: Bound, attempt: number): Promise<PartitionResult> {
  const { session } = where;
  const base = { runId: session.run.id, stepIndex: where.stepIndex, step: where.stepName, partition: partition.key, attempt, action: step.action, startedAt: session.env.now() };
  // A shutdown waits for a partition that is not safe to repeat, as for such a step.
  const unsafe = !isIdempotent(action, bound.input);
  if (unsafe) session.unsafePartitions += 1;
  try {
    return await recordedRun(where, partition, step, action, bound, base);
  } finally {
    if (unsafe) session.unsafePartitions -= 1;
  }
}

async function recordedRun(
  where: Where,
  partition: PartitionSpec,
  step: InnerStepSpec,
  action: RunbookAction<unknown>,
  bound: Bound,
  base: { runId: string; stepIndex: number; step: string; partition: string; attempt: number; action: string; startedAt: Date },
): Promise<PartitionResult> {
  const { session } = where;
  const attempt = base.attempt;
  const id = await insertAttempt(session.env.pool, session.owner, { ...base, status: 'running', inputs: bound.recorded });
  if (id === undefined) throw new LeaseLostError(`run ${session.run.id} is no longer held by ${session.owner}`);
  const signal = step.timeout === undefined ? where.signal : AbortSignal.any([where.signal, AbortSignal.timeout(step.timeout)]);
  let result: PartitionResult;
  try {
    const context = { ...session.actionContext(session.runbook.steps[where.stepIndex]!, signal, { attempt, stepStartedAt: base.startedAt }), step: `${where.stepName}[${partition.key}]` };
    result = { status: 'succeeded', outputs: await action.run(bound.input, context) };
  } catch (error) {
    result = { status: 'failed', outputs: error instanceof StepFailedError ? error.outputs : {}, error: errorMessage(error) };
  }
  const interrupted = session.signal.aborted;
  await finishAttempt(session.env.pool, id, interrupted ? 'interrupted' : result.status, { outputs: result.outputs, error: result.error }, session.env.now());
  if (interrupted) session.throwIfStopped();
  return result;
}
