// Turns zod issues into messages a person can act on, each tied to a place in the document.
// zod's own texts ("Invalid input", "expected object, received undefined") speak in JavaScript
// terms; config authors write YAML, so they read "mapping", "list" and "missing key" instead.

import type { z } from 'zod';
import type { DocumentPath } from './document-path.ts';
import { valueAtPath } from './document-path.ts';
import { suggestion } from './did-you-mean.ts';
import type { AnySchema } from './schema-walk.ts';
import { knownKeysAt } from './schema-walk.ts';
import type { NodeTarget } from './yaml-positions.ts';

/** A problem tied to a path, before it is given a file position. */
export interface PathProblem {
  path: DocumentPath;
  target: NodeTarget;
  message: string;
}

export interface IssueContext {
  schema: AnySchema;
  /** The data that was validated. */
  input: unknown;
  /** The scalar as written in the file (before interpolation), or undefined for collections. */
  writtenText(path: DocumentPath): string | undefined;
  /** Whether the document has a key at this path (a key written with an empty value counts). */
  hasKey(path: DocumentPath): boolean;
}

type Issue = z.core.$ZodIssue;

const EXPECTED_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `a ${typeof value}`;
}

/** What was written, as the author wrote it: `"mysql"`, `5`, `true`, or the kind of collection. */
function got(path: DocumentPath, context: IssueContext): string {
  const written = context.writtenText(path);
  const value = valueAtPath(context.input, path);
  if (written === undefined || value === null || typeof value === 'object') return describeValue(value);
  return typeof value === 'string' ? `"${written}"` : written;
}

/** zod's built-in messages start like this; messages the schema wrote do not. */
function isZodWording(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(message);
}

function formatLiteral(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isMissing(path: DocumentPath, context: IssueContext): boolean {
  return path.length > 0 && valueAtPath(context.input, path) === undefined && !context.hasKey(path);
}

function missing(path: DocumentPath, expected: string): PathProblem {
  const key = String(path[path.length - 1]);
  return { path, target: 'parent', message: `missing required key "${key}" (${expected}); add it` };
}

/** What one failed union branch wanted, when it failed at the value itself. */
function branchExpectation(branch: readonly Issue[]): string | undefined {
  const [issue] = branch;
  if (branch.length !== 1 || !issue || issue.path.length > 0) return undefined;
  if (issue.code === 'invalid_type') return EXPECTED_NAMES[issue.expected] ?? issue.expected;
  if (issue.code === 'invalid_value') return issue.values.map(formatLiteral).join(' or ');
  return undefined;
}

function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, context: IssueContext): PathProblem[] {
  const path = issue.path as DocumentPath;
  const expectations = issue.errors.map(branchExpectation);
  // A branch that failed deeper down is the one the author meant: report its own problems.
  const deeper = issue.errors.find((_, index) => expectations[index] === undefined);
  if (deeper) return deeper.flatMap((inner) => describeIssue({ ...inner, path: [...path, ...inner.path] } as Issue, context));
  const expected = [...new Set(expectations as string[])].join(' or ');
  if (isMissing(path, context)) return [missing(path, expected)];
  return [{ path, target: 'value', message: `expected ${expected}, got ${got(path, context)}` }];
}

function describeUnknownKeys(issue: Extract<Issue, { code: 'unrecognized_keys' }>, context: IssueContext): PathProblem[] {
  const path = issue.path as DocumentPath;
  const known = knownKeysAt(context.schema, path);
  return issue.keys.map((key) => ({
    path: [...path, key],
    target: 'key' as const,
    message: `unknown key "${key}"; ${suggestion(key, known)}`,
  }));
}

function describeSize(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, path: DocumentPath, context: IssueContext): string {
  const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
  const word = issue.code === 'too_small' ? 'at least' : 'at most';
  if (issue.origin === 'array') return `expected ${word} ${bound} item${bound === 1 ? '' : 's'}`;
  if (issue.origin === 'string' && issue.code === 'too_small' && bound === 1) return 'expected a non-empty string';
  if (issue.origin === 'string') return `expected ${word} ${bound} characters`;
  const strict = issue.inclusive === false ? (issue.code === 'too_small' ? 'more than' : 'less than') : word;
  return `expected a number ${strict} ${bound}, got ${context.writtenText(path) ?? describeValue(valueAtPath(context.input, path))}`;
}

function describeFormat(issue: Extract<Issue, { code: 'invalid_format' }>, path: DocumentPath, context: IssueContext): string {
  const written = context.writtenText(path) ?? '';
  if (issue.format === 'url') return `expected a URL like "https://grafana.example.com", got "${written}"`;
  // Custom regex messages from the schema already say what is expected; add what was written.
  const expectation = isZodWording(issue.message) ? `expected ${issue.format}` : issue.message;
  return `${expectation}, got "${written}"`;
}

export function describeIssue(issue: Issue, context: IssueContext): PathProblem[] {
  const path = issue.path as DocumentPath;
  switch (issue.code) {
    case 'unrecognized_keys':
      return describeUnknownKeys(issue, context);
    case 'invalid_union':
      return describeUnion(issue, context);
    case 'invalid_key': {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      return [{ path, target: 'key', message: `invalid name "${String(path[path.length - 1])}": ${reasons}` }];
    }
    case 'invalid_type': {
      // A message the schema wrote itself ('expected a duration like "1h"') beats a type name.
      const custom = isZodWording(issue.message) ? undefined : issue.message.replace(/^expected /, '');
      const expected = custom ?? EXPECTED_NAMES[issue.expected] ?? issue.expected;
      if (isMissing(path, context)) return [missing(path, expected)];
      return [{ path, target: 'value', message: `expected ${expected}, got ${got(path, context)}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map(formatLiteral).join(', ');
      if (isMissing(path, context)) return [missing(path, `one of: ${options}`)];
      return [{ path, target: 'value', message: `expected one of: ${options}; got ${got(path, context)}` }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path, target: 'value', message: describeSize(issue, path, context) }];
    case 'invalid_format':
      return [{ path, target: 'value', message: describeFormat(issue, path, context) }];
    default:
      return [{ path, target: 'value', message: issue.message }];
  }
}

/**
 * Every zod issue as one or more located messages. One message per place: zod goes on checking a
 * value of the wrong type (`url: []` also fails "non-empty"), and the first issue is the one to fix.
 */
export function describeIssues(issues: readonly Issue[], context: IssueContext): PathProblem[] {
  const seen = new Set<string>();
  return issues
    .flatMap((issue) => describeIssue(issue, context))
    .filter((problem) => {
      const key = JSON.stringify(problem.path);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
