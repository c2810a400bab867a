// A step's `with` checked against its action's own zod schema, before any run. Leniently: a
// value that holds a `${…}` placeholder is only known once it is bound at run time (where the
// executor parses it again), so an issue at or under such a value is not reported here. Unknown
// keys, missing keys and constants of the wrong type are reported, with file:line.

import type { z } from 'zod';
import { describeIssues } from '../config/describe-issues.ts';
import type { IssueContext, PathProblem } from '../config/describe-issues.ts';
import type { DocumentPath } from '../config/document-path.ts';
import { nodeAt } from '../config/yaml-positions.ts';
import type { YamlSource } from '../config/yaml-positions.ts';
import { errorMessage } from '../errors.ts';
import { isScalar } from 'yaml';
import type { RunbookAction } from './action.ts';
import { parseTemplate } from './bind-values.ts';
import { ACTION_NAMES } from './runbook-schema.ts';
import type { ActionName } from './runbook-schema.ts';

export type ActionRegistry = ReadonlyMap<ActionName, RunbookAction<unknown>>;

type Fields = Record<string, unknown>;

export function fieldsOf(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** How describeIssues sees the YAML under `prefix`, for a schema that checks the value there. */
export function yamlIssueContext(source: YamlSource, schema: z.ZodType, input: unknown, prefix: DocumentPath = []): IssueContext {
  return {
    schema,
    input,
    writtenText(path) {
      const node = nodeAt(source, [...prefix, ...path]);
      return isScalar(node) ? (node.source ?? String(node.value)) : undefined;
    },
    hasKey: (path) => nodeAt(source, [...prefix, ...path]) !== undefined,
  };
}

function holdsPlaceholder(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return parseTemplate(value).some((part) => 'expression' in part);
  } catch {
    // A placeholder that does not parse is reported where placeholders are checked.
    return true;
  }
}

/** Whether the value at `path`, or one of the values it sits in, is bound only at run time. */
function boundAtRunTime(value: unknown, path: readonly PropertyKey[]): boolean {
  let current = value;
  for (const segment of path) {
    if (holdsPlaceholder(current)) return true;
    if (current === null || typeof current !== 'object') return false;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return holdsPlaceholder(current);
}

function schemaProblems(action: RunbookAction<unknown>, withValue: Fields, withPath: DocumentPath, source: YamlSource): PathProblem[] {
  let issues: z.core.$ZodIssue[];
  try {
    const parsed = action.input.safeParse(withValue);
    issues = parsed.success ? [] : parsed.error.issues.filter((issue) => !boundAtRunTime(withValue, issue.path));
  } catch (error) {
    // A transform that trips over an unbound placeholder; the run-time parse has the real value.
    return [{ path: withPath, target: 'value', message: `inputs cannot be checked before the run: ${errorMessage(error)}` }];
  }
  const context = yamlIssueContext(source, action.input, withValue, withPath);
  return describeIssues(issues, context).map((problem) => ({ ...problem, path: [...withPath, ...problem.path] }));
}

function definitionProblems(action: RunbookAction<unknown>, withValue: Fields, withPath: DocumentPath): PathProblem[] {
  let messages: string[];
  try {
    messages = action.checkDefinition?.(withValue) ?? [];
  } catch (error) {
    messages = [errorMessage(error)];
  }
  return messages.map((message) => ({ path: withPath, target: 'value' as const, message }));
}

function unavailable(name: string, actions: ActionRegistry): string {
  const available = [...actions.keys()];
  const listed = available.length === 0 ? '' : `; available: ${available.join(', ')}`;
  return `action "${name}" is not available in this build${listed}`;
}

/** Problems with one step's `with`; the step's shape itself is the runbook schema's to check. */
export function checkActionInputs(step: Fields, stepPath: DocumentPath, actions: ActionRegistry, source: YamlSource): PathProblem[] {
  const name = step.action;
  // A name outside ACTION_NAMES is already reported by the runbook schema, with the list.
  if (typeof name !== 'string' || !(ACTION_NAMES as readonly string[]).includes(name)) return [];
  const action = actions.get(name as ActionName);
  if (action === undefined) return [{ path: [...stepPath, 'action'], target: 'value', message: unavailable(name, actions) }];
  const withValue = step.with === undefined ? {} : fieldsOf(step.with);
  if (withValue === undefined) return [];
  const withPath = [...stepPath, 'with'];
  const problems = schemaProblems(action, withValue, withPath, source);
  // checkDefinition may assume the shape its schema promises, so it runs only on a good shape.
  return problems.length > 0 ? problems : definitionProblems(action, withValue, withPath);
}
