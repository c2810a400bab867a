// Executes one claimed run to its end, resuming from its record: steps that finished are never
// run again (their outputs are read back), a step whose attempt was in flight when a daemon died
// is repeated only when its action is idempotent — otherwise the run stops and escalates, saying
// what may have half-happened. The run's deadline stops it wherever it is.

import { errorMessage } from '../errors.ts';
import type { RunRow, RunStatus } from '../store/runbook-runs.ts';
import { finishAttempt, finishRun, releaseRun, selectAttempts } from '../store/runbook-runs.ts';
import { selectLineageNode } from '../store/lineage.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { isIdempotent } from './action.ts';
import type { RunbookAction } from './action.ts';
import { evaluateCondition } from './cel.ts';
import type { LoadedStep } from './loaded-runbook.ts';
import type { RunEnvironment } from './run-environment.ts';
import type { StepHistory } from './run-history.ts';
import { stepHistories, UNRETRYABLE_PREFIX } from './run-history.ts';
import { RunSession, RunStoppedError } from './run-session.ts';
import type { StepResult } from './step-attempts.ts';
import { bindStepValue, LeaseLostError, runStepAttempts } from './step-attempts.ts';

export type RunEnd = { status: RunStatus; outcome: string } | { status: 'released' };

interface Ending {
  status: 'succeeded' | 'failed' | 'escalated';
  outcome: string;
}

/** Runs `run` (claimed by `owner`) until it ends or is stopped; `session` lets the caller stop it. */
export async function executeRun(env: RunEnvironment, run: RunRow, owner: string, onSession?: (session: RunSession) => void): Promise<RunEnd> {
  let session: RunSession;
  try {
    session = new RunSession(run, env.compile(run), env, owner);
  } catch (error) {
    return endRun(env, run, owner, { status: 'failed', outcome: `the runbook recorded for this run cannot be used: ${errorMessage(error)}` }, false);
  }
  onSession?.(session);
  session.lineage = await selectLineageNode(env.pool, run.asset);
  const untilDeadline = run.deadline_at.getTime() - env.now().getTime();
  const deadlineTimer = setTimeout(() => session.stop('deadline'), Math.max(0, untilDeadline));
  try {
    const runAttributes = { 'pipewarden.runbook': run.runbook, 'pipewarden.run.id': run.id, 'pipewarden.asset': run.asset };
    const ending = await withSpan('runbook run', runAttributes, async (span) => {
      const ended = await runSteps(session);
      span.setAttribute('pipewarden.run.status', ended.status);
      return ended;
    });
    return await endRun(env, run, owner, ending, session.escalated);
  } catch (error) {
    if (error instanceof LeaseLostError) return { status: 'released' };
    if (!(error instanceof RunStoppedError)) throw error;
    if (error.reason === 'deadline') {
      const where = session.currentStep === undefined ? '' : ` during step "${session.currentStep}"`;
      return await endRun(env, run, owner, { status: 'escalated', outcome: `deadline ${run.deadline_at.toISOString()} passed${where}` }, session.escalated);
    }
    if (error.reason === 'shutdown') await releaseRun(env.pool, run.id, owner, env.now());
    return { status: 'released' };
  } finally {
    clearTimeout(deadlineTimer);
    session.clearProgress();
  }
}

async function runSteps(session: RunSession): Promise<Ending> {
  const { steps } = session.runbook;
  const attempts = await selectAttempts(session.env.pool, session.run.id);
  const histories = stepHistories(attempts, steps.length, (index) => steps[index]?.definition.retry?.attempts ?? 1);
  for (const [index, step] of steps.entries()) {
    session.throwIfStopped();
    session.currentStep = step.definition.name;
    const stepAttributes = { 'pipewarden.runbook': session.run.runbook, 'pipewarden.step': step.definition.name, 'pipewarden.step.index': index, 'pipewarden.action': step.definition.action };
    const result = await withSpan('runbook step', stepAttributes, async (span) => {
      const stepResult = await resultOf(session, index, histories[index] as StepHistory);
      if (!('ending' in stepResult)) span.setAttribute('pipewarden.step.status', stepResult.status);
      return stepResult;
    });
    if (typeof result === 'object' && 'ending' in result) return result.ending;
    session.results.set(step.definition.name, result);
    await escalateIfAsked(session, step, result);
    if (result.status !== 'failed') continue;
    const failure = `step "${step.definition.name}" (${step.definition.action}) failed: ${result.error ?? 'no reason given'}`;
    if (step.definition.on_failure === 'abort') return { status: 'failed', outcome: failure };
    if (step.definition.on_failure === 'escalate') return { status: 'escalated', outcome: failure };
  }
  return { status: session.escalated ? 'escalated' : 'succeeded', outcome: successOutcome(session) };
}

/** The step's result: read back when it finished before, else run now. */
async function resultOf(session: RunSession, index: number, history: StepHistory): Promise<StepResult | { ending: Ending }> {
  const step = session.runbook.steps[index] as LoadedStep;
  if (history.final !== undefined) return { ...history.final };
  if (history.inFlight !== undefined) {
    const verdict = await judgeInFlight(session, step, history);
    if (verdict !== undefined) return { ending: verdict };
  }
  const skipped = await skipIfConditionFalse(session, index, history);
  if (skipped !== undefined) return skipped;
  return runStepAttempts(session, index, history);
}

/** A step that was running when its daemon stopped: repeat it if that is harmless, else stop and say so. */
async function judgeInFlight(session: RunSession, step: LoadedStep, history: StepHistory): Promise<Ending | undefined> {
  const inFlight = history.inFlight as NonNullable<StepHistory['inFlight']>;
  if (inFlight.status === 'running') {
    await finishAttempt(session.env.pool, inFlight.id, 'interrupted', { error: 'the daemon running this attempt stopped before it finished' }, session.env.now());
  }
  const action = session.action(step);
  if (idempotentWith(session, step, action)) {
    session.logger.warn({ step: step.definition.name, attempt: inFlight.attempt }, 'repeating a runbook step that was in flight when its daemon stopped (its action is idempotent)');
    return undefined;
  }
  const inputs = JSON.stringify(inFlight.inputs);
  return {
    status: 'escalated',
    outcome:
      `step "${step.definition.name}" (${step.definition.action}) was in flight when its daemon stopped (attempt ${inFlight.attempt} started ${inFlight.started_at.toISOString()}). ` +
      `It is not idempotent, so it may have half-happened and was not repeated; check its effect by hand. Its inputs were: ${inputs}`,
  };
}

/** Judged on the inputs as they bind now: the same steps' outputs as before the daemon stopped. */
function idempotentWith(session: RunSession, step: LoadedStep, action: RunbookAction<unknown>): boolean {
  try {
    const parsed = action.input.safeParse(bindStepValue(step, action, session.variables()).value);
    return parsed.success && isIdempotent(action, parsed.data);
  } catch {
    return false;
  }
}

async function skipIfConditionFalse(session: RunSession, index: number, history: StepHistory): Promise<StepResult | undefined> {
  const step = session.runbook.steps[index] as LoadedStep;
  if (step.condition === undefined || history.attemptsUsed > 0) return undefined;
  const base = { runId: session.run.id, stepIndex: index, step: step.definition.name, attempt: 1, action: step.definition.action, inputs: null, startedAt: session.env.now(), finishedAt: session.env.now() };
  try {
    if (evaluateCondition(step.condition, session.variables())) return undefined;
  } catch (error) {
    const message = `${UNRETRYABLE_PREFIX}if: ${errorMessage(error)}`;
    await session.record({ ...base, status: 'failed', error: message });
    return { status: 'failed', outputs: {}, error: message };
  }
  await session.record({ ...base, status: 'skipped', outputs: {} });
  return { status: 'skipped', outputs: {} };
}

/** An `escalate` step (or any step whose outputs ask for it) pages now, once per run. */
async function escalateIfAsked(session: RunSession, step: LoadedStep, result: StepResult): Promise<void> {
  if (result.status !== 'succeeded' || result.outputs.escalated !== true || session.escalated) return;
  session.escalated = true;
  const reason = typeof result.outputs.reason === 'string' ? result.outputs.reason : `step "${step.definition.name}" escalated`;
  await session.env.escalate(session.run, reason);
}

function successOutcome(session: RunSession): string {
  const counts = { succeeded: 0, skipped: 0, failed: 0 };
  for (const result of session.results.values()) counts[result.status] += 1;
  const parts = [`${counts.succeeded} succeeded`, ...(counts.skipped > 0 ? [`${counts.skipped} skipped`] : []), ...(counts.failed > 0 ? [`${counts.failed} failed and continued`] : [])];
  return `${session.escalated ? 'escalated; ' : ''}steps: ${parts.join(', ')}`;
}

async function endRun(env: RunEnvironment, run: RunRow, owner: string, ending: Ending, alreadyEscalated: boolean): Promise<RunEnd> {
  const stored = await finishRun(env.pool, run.id, owner, ending.status, ending.outcome, env.now());
  if (!stored) return { status: 'released' };
  env.metrics?.runbookRuns.inc({ runbook: run.runbook, outcome: ending.status });
  const logger = env.logger.child({ run: run.id, runbook: run.runbook });
  logger[ending.status === 'succeeded' ? 'info' : 'warn']({ status: ending.status }, `runbook run ${ending.status}: ${ending.outcome}`);
  if (ending.status !== 'succeeded' && !alreadyEscalated) await env.escalate(run, ending.outcome);
  await env.finished?.(run, ending.status, ending.outcome);
  return ending;
}
