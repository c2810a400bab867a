// How `pipewarden runbook` shows runbooks, plans, runs and step attempts: one line per thing
// for people, and stable JSON field names for scripts.

import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import type { Judgement, PlannedStep, RunPlan } from '../runbooks/plan-run.ts';
import type { AttemptRow, RunRow } from '../store/runbook-runs.ts';

/**
 * A value as a person reads it: text verbatim (so a hostile asset key is shown exactly as it
 * will be passed), but quoted as JSON when it holds control characters, which could forge lines
 * or drive the terminal.
 */
export function shownValue(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value === 'string') return /[\u0000-\u001f\u007f-\u009f]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? 'null';
}

/** `with.argv[2] = value` lines, one per leaf, so each bound value stands on its own line. */
export function inputLines(value: unknown, path = 'with'): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [`${path} = []`] : value.flatMap((item, index) => inputLines(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? [`${path} = {}`] : entries.flatMap(([key, field]) => inputLines(field, `${path}.${key}`));
  }
  return [`${path} = ${shownValue(value)}`];
}

function judgement(value: Judgement): string {
  return `${value.value ? 'yes' : 'no'}${value.certain ? '' : ' (assumed until it runs)'}`;
}

function conditionText(step: PlannedStep): string | undefined {
  const condition = step.condition;
  if (condition === undefined) return undefined;
  const result = 'error' in condition ? `cannot be evaluated now: ${condition.error}` : String(condition.result);
  return `if ${condition.source} → ${result}`;
}

export function planLines(plan: RunPlan, context: { asset: string; params: Record<string, unknown>; incidentId: string | undefined }): string[] {
  const params = Object.entries(context.params).map(([name, value]) => `${name}=${shownValue(value)}`);
  const lines = [
    `dry run of runbook ${plan.runbook} for asset ${shownValue(context.asset)}: nothing was executed`,
    `params: ${params.length === 0 ? 'none' : params.join(' ')}`,
    `incident: ${context.incidentId === undefined ? 'none active for this asset' : `#${context.incidentId}`}`,
  ];
  for (const [index, step] of plan.steps.entries()) {
    lines.push(`${index + 1}. ${step.name} (${step.action}) idempotent: ${judgement(step.idempotent)}, destructive: ${judgement(step.destructive)}`);
    const condition = conditionText(step);
    if (condition !== undefined) lines.push(`   ${condition}`);
    for (const line of inputLines(step.inputs)) lines.push(`   ${line}`);
    if (step.inputError !== undefined) lines.push(`   would fail at once: ${step.inputError}`);
  }
  lines.push(plan.destructive ? 'destructive: yes — starting this run needs --yes' : 'destructive: no');
  return lines;
}

export function planJson(plan: RunPlan, context: { asset: string; params: Record<string, unknown>; incidentId: string | undefined }): Record<string, unknown> {
  return { dryRun: true, runbook: plan.runbook, asset: context.asset, params: context.params, incidentId: context.incidentId ?? null, destructive: plan.destructive, steps: plan.steps };
}

export function runbookJson(runbook: LoadedRunbook, destructive: boolean): Record<string, unknown> {
  const { definition } = runbook;
  return {
    name: definition.name,
    description: definition.description ?? null,
    file: runbook.file,
    match: definition.match === undefined ? null : { checks: definition.match.checks ?? null, assets: definition.match.assets ?? null, when: definition.match.when ?? null },
    params: Object.fromEntries(Object.entries(definition.params).map(([name, param]) => [name, { type: param.type, default: param.default ?? null, description: param.description ?? null }])),
    steps: definition.steps.length,
    destructive,
  };
}

export function runbookLines(runbook: LoadedRunbook, destructive: boolean): string[] {
  const { definition } = runbook;
  const match = definition.match;
  const matches =
    match === undefined
      ? 'by hand only'
      : [`checks ${match.checks?.join(',') ?? 'any'}`, `assets ${match.assets?.join(',') ?? 'any'}`, ...(match.when === undefined ? [] : [`when ${match.when}`])].join('; ');
  const params = Object.entries(definition.params).map(([name, param]) => `${name}: ${param.type}${param.default === undefined ? ' (required)' : ` = ${shownValue(param.default)}`}`);
  return [
    `${definition.name}${definition.description === undefined ? '' : ` — ${definition.description}`}`,
    `  matches: ${matches}`,
    `  params: ${params.length === 0 ? 'none' : params.join(', ')}`,
    `  steps: ${definition.steps.length}, destructive: ${destructive ? 'yes' : 'no'}`,
  ];
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function runJson(run: RunRow): Record<string, unknown> {
  return {
    id: run.id,
    runbook: run.runbook,
    asset: run.asset,
    status: run.status,
    startedBy: run.started_by,
    incidentId: run.incident_id,
    params: run.params,
    createdAt: iso(run.created_at),
    startedAt: iso(run.started_at),
    finishedAt: iso(run.finished_at),
    deadlineAt: iso(run.deadline_at),
    currentStep: run.current_step,
    outcome: run.outcome,
  };
}

export function runLine(run: RunRow): string {
  const when = run.finished_at === null ? `created ${run.created_at.toISOString()}` : `created ${run.created_at.toISOString()}, finished ${run.finished_at.toISOString()}`;
  const outcome = run.outcome === null ? '' : `: ${shownValue(run.outcome)}`;
  return `#${run.id} ${run.status} ${run.runbook} on ${shownValue(run.asset)} by ${run.started_by} (${when})${outcome}`;
}

export function attemptJson(attempt: AttemptRow): Record<string, unknown> {
  return {
    step: attempt.step,
    stepIndex: attempt.step_index,
    ...(attempt.partition === '' ? {} : { partition: attempt.partition }),
    attempt: attempt.attempt,
    action: attempt.action,
    status: attempt.status,
    startedAt: iso(attempt.started_at),
    finishedAt: iso(attempt.finished_at),
    durationMs: attempt.finished_at === null ? null : attempt.finished_at.getTime() - attempt.started_at.getTime(),
    error: attempt.error,
    inputs: attempt.inputs,
    outputs: attempt.outputs,
  };
}

const TAIL_CHARS = 400;

export function attemptLine(attempt: AttemptRow): string {
  const partition = attempt.partition === '' ? '' : ` [${attempt.partition}]`;
  const took = attempt.finished_at === null ? 'not finished' : `${attempt.finished_at.getTime() - attempt.started_at.getTime()} ms`;
  const error = attempt.error === null ? '' : `: ${shownValue(attempt.error)}`;
  return `step ${attempt.step}${partition} (${attempt.action}) attempt ${attempt.attempt} ${attempt.status}, ${took}${error}`;
}

/** The attempt, then its inputs and the end of its outputs (a command's output tail is what a person wants). */
export function attemptDetailLines(attempt: AttemptRow): string[] {
  const outputs = attempt.outputs === null ? undefined : JSON.stringify(attempt.outputs);
  const tail = outputs === undefined ? undefined : outputs.length > TAIL_CHARS ? `…${outputs.slice(-TAIL_CHARS)}` : outputs;
  return [
    `${attempt.started_at.toISOString()} ${attemptLine(attempt)}`,
    ...(attempt.inputs === null ? [] : [`    inputs: ${JSON.stringify(attempt.inputs)}`]),
    ...(tail === undefined ? [] : [`    outputs: ${tail}`]),
  ];
}
