// The checks on a runbook that its zod schema cannot do: unique step names, CEL that parses and
// reads only what exists at that point, parameter defaults of the declared type, and each step's
// inputs against its action. They run on the raw document, next to the schema rather than after
// it, so one `pipewarden validate` shows a misspelled key and a bad condition together.

import type { PathProblem } from '../config/describe-issues.ts';
import type { DocumentPath } from '../config/document-path.ts';
import { parseDuration } from '../config/duration.ts';
import type { YamlSource } from '../config/yaml-positions.ts';
import { errorMessage } from '../errors.ts';
import { parseTemplate } from './bind-values.ts';
import { compileExpression } from './cel.ts';
import { checkActionInputs, fieldsOf } from './check-action-inputs.ts';
import type { ActionRegistry } from './check-action-inputs.ts';
import { ALL_ROOTS, checkReferences, MATCH_ROOTS } from './check-references.ts';
import type { ReferenceScope } from './check-references.ts';
import { PARAM_TYPES } from './runbook-schema.ts';
import type { ParamType } from './runbook-schema.ts';

const PARAM_VALUES: Record<ParamType, { accepts(value: unknown): boolean; expected: string }> = {
  string: { accepts: (value) => typeof value === 'string', expected: 'a string' },
  int: { accepts: (value) => Number.isInteger(value), expected: 'a whole number' },
  number: { accepts: (value) => typeof value === 'number', expected: 'a number' },
  bool: { accepts: (value) => typeof value === 'boolean', expected: 'true or false' },
  duration: { accepts: (value) => typeof value === 'string' && parseDuration(value) !== undefined, expected: 'a duration like "1h"' },
};

function atValue(path: DocumentPath, messages: readonly string[]): PathProblem[] {
  return messages.map((message) => ({ path, target: 'value' as const, message }));
}

function checkParamDefaults(params: unknown): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const [name, param] of Object.entries(fieldsOf(params) ?? {})) {
    const fields = fieldsOf(param);
    const type = fields?.type ?? 'string';
    const value = fields?.default;
    // Wrong types of `type` or `default` themselves are the schema's to report.
    if (!(PARAM_TYPES as readonly unknown[]).includes(type) || !['string', 'number', 'boolean'].includes(typeof value)) continue;
    const { accepts, expected } = PARAM_VALUES[type as ParamType];
    if (!accepts(value)) problems.push(...atValue(['params', name, 'default'], [`default ${JSON.stringify(value)} is not ${expected}, which type ${String(type)} needs`]));
  }
  return problems;
}

function checkExpression(source: unknown, path: DocumentPath, scope: ReferenceScope): PathProblem[] {
  // Anything but a non-empty string is the schema's to report.
  if (typeof source !== 'string' || source.trim() === '') return [];
  try {
    return atValue(path, checkReferences(compileExpression(source), scope));
  } catch (error) {
    return atValue(path, [errorMessage(error)]);
  }
}

function stringLeaves(value: unknown, path: DocumentPath): { path: DocumentPath; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, index]));
  const fields = fieldsOf(value);
  return fields ? Object.entries(fields).flatMap(([key, field]) => stringLeaves(field, [...path, key])) : [];
}

/** Every `${…}` under `with` must compile and read only what is in scope. */
function checkPlaceholders(withValue: unknown, path: DocumentPath, scope: ReferenceScope): PathProblem[] {
  return stringLeaves(withValue, path).flatMap((leaf) => {
    try {
      const expressions = parseTemplate(leaf.text).flatMap((part) => ('expression' in part ? [part.expression] : []));
      return atValue(leaf.path, [...new Set(expressions.flatMap((expression) => checkReferences(expression, scope)))]);
    } catch (error) {
      return atValue(leaf.path, [errorMessage(error)]);
    }
  });
}

function checkStepNames(names: readonly (string | undefined)[]): PathProblem[] {
  const first = new Map<string, number>();
  const problems: PathProblem[] = [];
  names.forEach((name, index) => {
    if (name === undefined) return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else problems.push(...atValue(['steps', index, 'name'], [`steps[${earlier}] already has this name; step names must be unique, since later steps read outputs as \${steps.NAME…}`]));
  });
  return problems;
}

interface RunbookFacts {
  names: (string | undefined)[];
  params: string[];
  actions: ActionRegistry;
  source: YamlSource;
}

function defined(name: string | undefined): name is string {
  return name !== undefined;
}

function checkStep(step: unknown, index: number, facts: RunbookFacts): PathProblem[] {
  const fields = fieldsOf(step);
  if (!fields) return [];
  const path = ['steps', index];
  const scope: ReferenceScope = {
    roots: ALL_ROOTS,
    earlierSteps: facts.names.slice(0, index).filter(defined),
    currentStep: facts.names[index],
    laterSteps: facts.names.slice(index + 1).filter(defined),
    params: facts.params,
  };
  return [
    ...checkExpression(fields.if, [...path, 'if'], scope),
    ...checkPlaceholders(fields.with, [...path, 'with'], scope),
    ...checkActionInputs(fields, path, facts.actions, facts.source),
  ];
}

/** Problems in the runbook document `data` (parsed from `source`) beyond its schema. */
export function checkRunbookRules(data: unknown, actions: ActionRegistry, source: YamlSource): PathProblem[] {
  const runbook = fieldsOf(data);
  if (!runbook) return [];
  const steps = Array.isArray(runbook.steps) ? (runbook.steps as unknown[]) : [];
  const names = steps.map((step) => {
    const name = fieldsOf(step)?.name;
    return typeof name === 'string' ? name : undefined;
  });
  const facts: RunbookFacts = { names, params: Object.keys(fieldsOf(runbook.params) ?? {}), actions, source };
  const matchScope: ReferenceScope = { roots: MATCH_ROOTS, earlierSteps: [], currentStep: undefined, laterSteps: [], params: facts.params };
  return [
    ...checkParamDefaults(runbook.params),
    ...checkExpression(fieldsOf(runbook.match)?.when, ['match', 'when'], matchScope),
    ...checkStepNames(names),
    ...steps.flatMap((step, index) => checkStep(step, index, facts)),
  ];
}
