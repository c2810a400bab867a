// What a run of a runbook would do, worked out without doing any of it: each step's condition
// and inputs bound with the run's own variables (asset, params, incident, vars, secrets), and whether
// the step is idempotent and destructive for those inputs. `pipewarden runbook run --dry-run`
// prints it, and the same judgement decides whether a real run needs `--yes`, so what a person
// reviewed is what gates them. Pure: no database, no network, no clock.
//
// What a step reads from earlier steps (`steps.X`) exists only once those steps ran, and a
// backfill's `${partition}` only per partition, so such a condition is "decided when it runs"
// and such a value is shown as where it will come from.
// When that leaves an action's destructive/idempotent judgement open, the plan assumes the
// cautious answer (destructive, not idempotent): the gate must not open on a guess.

import { errorMessage } from '../errors.ts';
import { isDestructive, isIdempotent } from './action.ts';
import type { RunbookAction } from './action.ts';
import { bindValue, REDACTED } from './bind-values.ts';
import type { CompiledValue } from './bind-values.ts';
import { evaluateCondition } from './cel.ts';
import type { CompiledExpression } from './cel.ts';
import type { LoadedRunbook, LoadedStep } from './loaded-runbook.ts';
import type { ActionName } from './runbook-schema.ts';

export const DECIDED_WHEN_IT_RUNS = 'decided when it runs';

export type ConditionPlan = { source: string; result: boolean } | { source: string; result: typeof DECIDED_WHEN_IT_RUNS } | { source: string; error: string };

/** A judgement that is `certain` only when it rests on fully known inputs. */
export interface Judgement {
  value: boolean;
  certain: boolean;
}

export interface PlannedStep {
  name: string;
  action: ActionName;
  condition?: ConditionPlan;
  /** The `with` values as they would bind; secrets as "[secret]", later-bound ones as "(from steps.X when it runs)" or "(for each partition)". */
  inputs: unknown;
  /** Why the inputs do not bind or parse, when they do not: the step would fail right away. */
  inputError?: string;
  destructive: Judgement;
  idempotent: Judgement;
  /** False only when the condition is known to be false. */
  mayRun: boolean;
}

export interface RunPlan {
  runbook: string;
  steps: PlannedStep[];
  /** Some step that may run is (or may be) destructive. */
  destructive: boolean;
}

type Actions = ReadonlyMap<ActionName, RunbookAction<unknown>>;

/** What an expression reads that exists only later: an earlier step's outputs, or a backfill's partition. */
function readsLater(expression: CompiledExpression): string | undefined {
  for (const ref of expression.references) {
    if (ref.root === 'steps') return `from steps${ref.field === undefined ? '' : `.${ref.field}`} when it runs`;
    if (ref.root === 'partition' || ref.root === 'partition_end') return 'for each partition';
  }
  return undefined;
}

/** Why a `${…}` value cannot be bound now, if it cannot. */
function boundLater(compiled: CompiledValue): string | undefined {
  if (compiled.kind !== 'template') return undefined;
  for (const part of compiled.parts) {
    const later = 'expression' in part ? readsLater(part.expression) : undefined;
    if (later !== undefined) return later;
  }
  return undefined;
}

function templateSource(compiled: Extract<CompiledValue, { kind: 'template' }>): string {
  return compiled.parts.map((part) => ('literal' in part ? part.literal.replaceAll('${', '$${') : `\${${part.expression.source}}`)).join('');
}

/**
 * Binds what can be bound now. `shown` is for people (secrets hidden); `judged` is what the
 * action's schema and destructive/idempotent functions see (real secrets; later-bound values left
 * as their `${…}` text, which the schema accepts only where any string would do).
 */
function bindNow(compiled: CompiledValue, variables: Record<string, unknown>): { shown: unknown; judged: unknown; pending: boolean } {
  switch (compiled.kind) {
    case 'constant':
      return { shown: compiled.value, judged: compiled.value, pending: false };
    case 'template': {
      const later = boundLater(compiled);
      if (later !== undefined) return { shown: `(${later})`, judged: templateSource(compiled), pending: true };
      const bound = bindValue(compiled, variables);
      return { shown: compiled.readsSecret ? REDACTED : bound.value, judged: bound.value, pending: false };
    }
    case 'list': {
      const items = compiled.items.map((item) => bindNow(item, variables));
      return { shown: items.map((item) => item.shown), judged: items.map((item) => item.judged), pending: items.some((item) => item.pending) };
    }
    case 'map': {
      const entries = compiled.entries.map(([key, field]) => [key, bindNow(field, variables)] as const);
      return {
        shown: Object.fromEntries(entries.map(([key, bound]) => [key, bound.shown])),
        judged: Object.fromEntries(entries.map(([key, bound]) => [key, bound.judged])),
        pending: entries.some(([, bound]) => bound.pending),
      };
    }
  }
}

const CAUTIOUS = { destructive: { value: true, certain: false }, idempotent: { value: false, certain: false } };

/** Destructive/idempotent for `candidate`; when the action's schema refuses it, the cautious answer. */
export function judgeAction(action: RunbookAction<unknown>, candidate: unknown, pending: boolean): { destructive: Judgement; idempotent: Judgement } {
  const fixed = (flag: boolean | ((input: unknown) => boolean)): boolean => typeof flag === 'boolean';
  let parsed: ReturnType<typeof action.input.safeParse>;
  try {
    parsed = action.input.safeParse(candidate);
  } catch {
    parsed = { success: false } as ReturnType<typeof action.input.safeParse>;
  }
  if (!parsed.success) {
    return {
      destructive: fixed(action.destructive) ? { value: action.destructive as boolean, certain: true } : CAUTIOUS.destructive,
      idempotent: fixed(action.idempotent) ? { value: action.idempotent as boolean, certain: true } : CAUTIOUS.idempotent,
    };
  }
  return {
    destructive: { value: isDestructive(action, parsed.data), certain: !pending || fixed(action.destructive) },
    idempotent: { value: isIdempotent(action, parsed.data), certain: !pending || fixed(action.idempotent) },
  };
}

function planCondition(step: LoadedStep, variables: Record<string, unknown>): ConditionPlan | undefined {
  const condition = step.condition;
  if (condition === undefined) return undefined;
  if (readsLater(condition) !== undefined) return { source: condition.source, result: DECIDED_WHEN_IT_RUNS };
  try {
    return { source: condition.source, result: evaluateCondition(condition, variables) };
  } catch (error) {
    return { source: condition.source, error: errorMessage(error) };
  }
}

function planStep(step: LoadedStep, actions: Actions, variables: Record<string, unknown>): PlannedStep {
  const { name, action: actionName } = step.definition;
  const condition = planCondition(step, variables);
  const mayRun = condition === undefined || !('result' in condition) || condition.result !== false;
  const action = actions.get(actionName);
  const base = { name, action: actionName, ...(condition === undefined ? {} : { condition }), mayRun };
  if (action === undefined) return { ...base, inputs: step.definition.with, inputError: `action ${actionName} is not available in this build`, ...CAUTIOUS };
  let bound: ReturnType<typeof bindNow>;
  try {
    bound = bindNow(step.inputs, variables);
  } catch (error) {
    return { ...base, inputs: step.definition.with, inputError: errorMessage(error), ...CAUTIOUS };
  }
  const judged = judgeAction(action, bound.judged, bound.pending);
  const parsed = bound.pending ? undefined : action.input.safeParse(bound.judged);
  const inputError = parsed?.success === false ? parsed.error.issues.map((issue) => `with.${issue.path.join('.')}: ${issue.message}`).join('; ') : undefined;
  return { ...base, inputs: bound.shown, ...(inputError === undefined ? {} : { inputError }), ...judged };
}

/** The plan of a run with these CEL variables (as RunSession.variables gives them, `steps` empty). */
export function planRun(runbook: LoadedRunbook, actions: Actions, variables: Record<string, unknown>): RunPlan {
  const steps = runbook.steps.map((step) => planStep(step, actions, variables));
  return { runbook: runbook.definition.name, steps, destructive: steps.some((step) => step.mayRun && step.destructive.value) };
}

/**
 * Whether any step may be destructive, judged on the runbook alone (for `runbook list`): constant
 * inputs as written, anything bound at run time left as its `${…}` text, so a schema that cannot
 * accept it yields the cautious answer.
 */
export function runbookMayBeDestructive(runbook: LoadedRunbook, actions: Actions): boolean {
  return runbook.steps.some((step) => {
    const action = actions.get(step.definition.action);
    if (action === undefined) return true;
    const pending = step.definition.with !== undefined && JSON.stringify(step.definition.with).includes('${');
    return judgeAction(action, step.definition.with, pending).destructive.value;
  });
}
