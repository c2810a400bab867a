// `${…}` in a step's `with`: each placeholder is a CEL expression over the run's variables. A
// string that is one placeholder and nothing else takes the value itself (a number stays a
// number, a list a list); placeholders inside a longer string are turned into text within that
// one string. Either way a value only ever fills the single argv element, SQL parameter, quoted
// identifier, header or JSON field its author put it in: actions never hand strings to a shell
// or splice them into SQL text. `$${` writes a literal `${`.
//
// Values read from `secrets.*` are used but never recorded: the recorded copy of the inputs
// (what `runbook runs` and the timeline show) has "[secret]" in their place.

import { RunbookError } from '../errors.ts';
import { compileExpression } from './cel.ts';
import type { CompiledExpression } from './cel.ts';

export const REDACTED = '[secret]';

type Part = { literal: string } | { expression: CompiledExpression };

export type CompiledValue =
  | { kind: 'constant'; value: unknown }
  | { kind: 'template'; parts: Part[]; readsSecret: boolean }
  | { kind: 'list'; items: CompiledValue[] }
  | { kind: 'map'; entries: [string, CompiledValue][] };

/** Where in `with` a value sits, for messages: `with.argv[2]`. */
export type ValuePath = readonly (string | number)[];

/** The end of a `${` placeholder: the `}` that closes it, skipping braces inside CEL strings and maps. */
function placeholderEnd(text: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index] as string;
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) return index;
      depth -= 1;
    }
  }
  return -1;
}

export function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('$${', index)) {
      literal += '${';
      index += 3;
    } else if (text.startsWith('${', index)) {
      const end = placeholderEnd(text, index + 2);
      if (end < 0) throw new RunbookError('runbook_template_unclosed', `"\${" at character ${index + 1} has no closing "}"`);
      const source = text.slice(index + 2, end).trim();
      if (source === '') throw new RunbookError('runbook_template_empty', `"\${}" at character ${index + 1} is empty; write \${finding.asset} or similar`);
      if (literal !== '') parts.push({ literal });
      literal = '';
      parts.push({ expression: compileExpression(source) });
      index = end + 1;
    } else {
      literal += text[index];
      index += 1;
    }
  }
  if (literal !== '') parts.push({ literal });
  return parts;
}

/** Compiles every placeholder under a `with` value; throws RunbookError naming the path. */
export function compileValue(value: unknown, path: ValuePath = []): CompiledValue {
  if (typeof value === 'string') {
    let parts: Part[];
    try {
      parts = parseTemplate(value);
    } catch (error) {
      throw new RunbookError('runbook_template_invalid', `${formatValuePath(path)}: ${(error as Error).message}`);
    }
    if (parts.every((part) => 'literal' in part)) return { kind: 'constant', value: parts.map((part) => (part as { literal: string }).literal).join('') };
    const readsSecret = parts.some((part) => 'expression' in part && part.expression.references.some((ref) => ref.root === 'secrets'));
    return { kind: 'template', parts, readsSecret };
  }
  if (Array.isArray(value)) return { kind: 'list', items: value.map((item, index) => compileValue(item, [...path, index])) };
  if (value !== null && typeof value === 'object') {
    return { kind: 'map', entries: Object.entries(value).map(([key, field]) => [key, compileValue(field, [...path, key])]) };
  }
  return { kind: 'constant', value };
}

export function formatValuePath(path: ValuePath): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), '');
}

/** Every expression under a compiled value, for checks before any run. */
export function expressionsIn(value: CompiledValue): CompiledExpression[] {
  switch (value.kind) {
    case 'constant':
      return [];
    case 'template':
      return value.parts.flatMap((part) => ('expression' in part ? [part.expression] : []));
    case 'list':
      return value.items.flatMap(expressionsIn);
    case 'map':
      return value.entries.flatMap(([, field]) => expressionsIn(field));
  }
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface BoundValue {
  /** What the action receives. */
  value: unknown;
  /** What is recorded and shown: the same, with secret-derived strings replaced. */
  recorded: unknown;
}

export function bindValue(compiled: CompiledValue, variables: Record<string, unknown>, path: ValuePath = []): BoundValue {
  switch (compiled.kind) {
    case 'constant':
      return { value: compiled.value, recorded: compiled.value };
    case 'template': {
      const values = compiled.parts.map((part) => ('literal' in part ? part.literal : evaluateAt(part.expression, variables, path)));
      const value = compiled.parts.length === 1 && 'expression' in (compiled.parts[0] as Part) ? values[0] : values.map(asText).join('');
      return { value, recorded: compiled.readsSecret ? REDACTED : value };
    }
    case 'list': {
      const items = compiled.items.map((item, index) => bindValue(item, variables, [...path, index]));
      return { value: items.map((item) => item.value), recorded: items.map((item) => item.recorded) };
    }
    case 'map': {
      const entries = compiled.entries.map(([key, field]) => [key, bindValue(field, variables, [...path, key])] as const);
      return {
        value: Object.fromEntries(entries.map(([key, bound]) => [key, bound.value])),
        recorded: Object.fromEntries(entries.map(([key, bound]) => [key, bound.recorded])),
      };
    }
  }
}

function evaluateAt(expression: CompiledExpression, variables: Record<string, unknown>, path: ValuePath): unknown {
  try {
    return expression.evaluate(variables);
  } catch (error) {
    throw new RunbookError('runbook_value_unbound', `${formatValuePath(path)}: ${(error as Error).message}`);
  }
}
