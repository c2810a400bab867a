// CEL (Common Expression Language) for runbook conditions and `${…}` values, through
// @marcbachmann/cel-js. CEL cannot loop forever, call out or touch the file system, which is
// why it is safe to evaluate what a runbook author wrote. JavaScript values cross in both
// directions here: whole numbers become CEL ints (so `params.days * 2` works) and ints come back
// as numbers.

import { Environment } from '@marcbachmann/cel-js';
import { RunbookError } from '../errors.ts';

const environment = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

/** The variables an expression may read. */
export const CEL_ROOTS = ['finding', 'asset', 'incident', 'params', 'steps', 'run', 'vars', 'secrets', 'partition', 'partition_end'] as const;

export interface CompiledExpression {
  source: string;
  evaluate(variables: Record<string, unknown>): unknown;
  /** Every `root.field` the expression reads, e.g. `steps.verify`, for checks before a run. */
  references: { root: string; field: string | undefined }[];
}

interface AstNode {
  op: string;
  args: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

function collectReferences(node: unknown, into: CompiledExpression['references']): void {
  if (Array.isArray(node)) {
    for (const item of node) collectReferences(item, into);
    return;
  }
  if (!isNode(node)) return;
  if (node.op === 'id' && typeof node.args === 'string') into.push({ root: node.args, field: undefined });
  if (node.op === '.' && Array.isArray(node.args)) {
    const [target, field] = node.args as [unknown, unknown];
    if (isNode(target) && target.op === 'id' && typeof field === 'string') {
      into.push({ root: String(target.args), field });
      return;
    }
  }
  collectReferences(node.args, into);
}

/** Parses once; throws a RunbookError naming the expression when it is not CEL. */
export function compileExpression(source: string): CompiledExpression {
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = environment.parse(source);
  } catch (error) {
    throw new RunbookError('runbook_cel_invalid', `not a valid CEL expression: ${firstLine(error)}`);
  }
  const references: CompiledExpression['references'] = [];
  collectReferences(parsed.ast, references);
  return {
    source,
    references,
    evaluate(variables) {
      try {
        return fromCel(parsed(toCel(variables) as Record<string, unknown>));
      } catch (error) {
        throw new RunbookError('runbook_cel_failed', `${JSON.stringify(source)} cannot be evaluated: ${firstLine(error)}`);
      }
    },
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** A condition must come out true or false; anything else is the author's mistake. */
export function evaluateCondition(expression: CompiledExpression, variables: Record<string, unknown>): boolean {
  const value = expression.evaluate(variables);
  if (typeof value !== 'boolean') {
    throw new RunbookError('runbook_cel_not_boolean', `${JSON.stringify(expression.source)} gave ${JSON.stringify(value)}, not true or false`);
  }
  return value;
}

export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined).map(([key, field]) => [key, toCel(field)]));
  }
  return value;
}

export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([key, field]) => [String(key), fromCel(field)]));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, fromCel(field)]));
  }
  return value;
}
