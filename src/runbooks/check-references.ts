// What a CEL expression in a runbook may read, checked before any run: only the known roots,
// only steps that have run by then, only parameters the runbook declares. A run would otherwise
// fail on `${steps.verfy.outcome}` halfway through an incident, after the steps before it acted.

import { closestMatch, suggestion } from '../config/did-you-mean.ts';
import { CEL_ROOTS } from './cel.ts';
import type { CompiledExpression } from './cel.ts';

/** What is in scope where an expression sits. */
export interface ReferenceScope {
  /** Roots the expression may read; `match.when` runs before any step, so it gets fewer. */
  roots: readonly string[];
  /** Names of the steps before this one, in order. */
  earlierSteps: readonly string[];
  /** The step the expression belongs to; undefined in `match.when`. */
  currentStep: string | undefined;
  /** Names of the steps after this one: reading them is a mistake of order, not of spelling. */
  laterSteps: readonly string[];
  params: readonly string[];
}

export const ALL_ROOTS: readonly string[] = CEL_ROOTS;
/** `match.when` decides whether a run starts, so no step, run or secret exists yet. */
export const MATCH_ROOTS: readonly string[] = ['finding', 'asset', 'incident', 'params'];

// The compiled expression lists every identifier, including the variables that macros such as
// `list.exists(x, …)` and `cel.bind(v, …)` bind; cel.ts does not tell them apart, so they are
// read from the source: a name bound this way is not a root to check.
const MACRO_VARIABLE = /\b(?:all|exists|exists_one|map|filter|bind)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,/g;

function boundVariables(source: string): Set<string> {
  return new Set([...source.matchAll(MACRO_VARIABLE)].map((match) => match[1] as string));
}

function checkRoot(root: string, scope: ReferenceScope): string | undefined {
  if (scope.roots.includes(root)) return undefined;
  if (ALL_ROOTS.includes(root)) return `"${root}" cannot be read here; only ${scope.roots.join(', ')} can`;
  return `unknown variable "${root}"; ${suggestion(root, scope.roots)}`;
}

function checkStep(name: string, scope: ReferenceScope): string | undefined {
  if (scope.earlierSteps.includes(name)) return undefined;
  if (name === scope.currentStep) return `steps.${name} is this step's own output, which does not exist yet; a step can only read the steps before it`;
  if (scope.laterSteps.includes(name)) return `steps.${name} runs after this step; a step can only read the steps before it`;
  if (scope.earlierSteps.length === 0) return `there is no step "${name}" before this one (this is the first step)`;
  return `there is no step "${name}" before this one; ${suggestion(name, scope.earlierSteps)}`;
}

function checkParam(name: string, scope: ReferenceScope): string {
  const close = closestMatch(name, scope.params);
  const fix = close === undefined ? 'declare it under params:' : `did you mean "${close}"?`;
  return `params.${name} is not a parameter of this runbook; ${fix}`;
}

/**
 * Step names may contain "-", but in CEL `steps.rerun-loader` is `steps.rerun` minus `loader`.
 * Say that once, instead of reporting a step "rerun" and a variable "loader" that do not exist.
 */
function hyphenatedStepReads(source: string, scope: ReferenceScope): { messages: string[]; steps: Set<string>; roots: Set<string> } {
  const names = [...scope.earlierSteps, ...(scope.currentStep === undefined ? [] : [scope.currentStep]), ...scope.laterSteps];
  const result = { messages: [] as string[], steps: new Set<string>(), roots: new Set<string>() };
  for (const name of names.filter((candidate) => candidate.includes('-') && source.includes(`steps.${candidate}`))) {
    const [head, ...rest] = name.split('-');
    result.steps.add(head as string);
    for (const part of rest) result.roots.add(part);
    result.messages.push(`steps.${name} reads as steps.${name.replaceAll('-', ' - ')} (in CEL "-" is minus); write steps["${name}"]`);
  }
  return result;
}

/** Every problem with what the expression reads, one message each, in the order they appear. */
export function checkReferences(expression: CompiledExpression, scope: ReferenceScope): string[] {
  const bound = boundVariables(expression.source);
  const hyphenated = hyphenatedStepReads(expression.source, scope);
  const messages = new Set<string>(hyphenated.messages);
  for (const { root, field } of expression.references) {
    if (bound.has(root) || hyphenated.roots.has(root) || (root === 'steps' && field !== undefined && hyphenated.steps.has(field))) continue;
    const rootProblem = checkRoot(root, scope);
    if (rootProblem !== undefined) messages.add(rootProblem);
    else if (root === 'steps' && field !== undefined) {
      const stepProblem = checkStep(field, scope);
      if (stepProblem !== undefined) messages.add(stepProblem);
    } else if (root === 'params' && field !== undefined && !scope.params.includes(field)) messages.add(checkParam(field, scope));
  }
  return [...messages];
}
