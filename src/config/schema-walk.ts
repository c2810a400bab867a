// Reads the structure of the zod config schema: which keys exist at a path (for "did you mean"),
// and what a key's type and default are (for the generated configuration reference). zod v4 keeps
// that structure in `schema._zod.def`; this is the one place that knows its shape.

import { z } from 'zod';
import type { DocumentPath } from './document-path.ts';

export type AnySchema = z.core.$ZodType;

/** The fields of `_zod.def` this module reads; zod's own types spread them over many interfaces. */
interface LooseDef {
  type: string;
  innerType?: AnySchema;
  defaultValue?: unknown;
  in?: AnySchema;
  out?: AnySchema;
  options?: readonly AnySchema[];
  shape?: Record<string, AnySchema>;
  keyType?: AnySchema;
  valueType?: AnySchema;
  element?: AnySchema;
  values?: readonly unknown[];
  entries?: Record<string, unknown>;
}

export function defOf(schema: AnySchema): LooseDef {
  return schema._zod.def as unknown as LooseDef;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

export interface Unwrapped {
  /** The schema under optional/default/prefault wrappers (a pipe stays a pipe). */
  schema: AnySchema;
  optional: boolean;
  hasDefault: boolean;
  /** For `default`, the value after parsing; for `prefault`, the input that is parsed. */
  defaultValue?: unknown;
}

/** Peels optional/default/prefault and similar wrappers off a schema, noting what they said. */
export function unwrapSchema(schema: AnySchema): Unwrapped {
  const result: Unwrapped = { schema, optional: false, hasDefault: false };
  let def = defOf(schema);
  while (WRAPPERS.has(def.type) && def.innerType) {
    if (def.type === 'optional') result.optional = true;
    if ((def.type === 'default' || def.type === 'prefault') && !result.hasDefault) {
      result.hasDefault = true;
      result.defaultValue = def.defaultValue;
    }
    result.schema = def.innerType;
    def = defOf(def.innerType);
  }
  return result;
}

/**
 * The shapes a value written at this place may take: wrappers and pipes are peeled (the input
 * side counts, that is what people write) and unions spread into their options.
 */
export function inputShapes(schema: AnySchema): AnySchema[] {
  const inner = unwrapSchema(schema).schema;
  const def = defOf(inner);
  if (def.type === 'pipe' && def.in) return inputShapes(def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(inputShapes);
  return [inner];
}

function childSchemas(schema: AnySchema, segment: string | number): AnySchema[] {
  const children: AnySchema[] = [];
  for (const shape of inputShapes(schema)) {
    const def = defOf(shape);
    if (def.type === 'object' && typeof segment === 'string' && def.shape && Object.hasOwn(def.shape, segment)) {
      children.push(def.shape[segment] as AnySchema);
    } else if (def.type === 'record' && typeof segment === 'string' && def.valueType) {
      children.push(def.valueType);
    } else if (def.type === 'array' && typeof segment === 'number' && def.element) {
      children.push(def.element);
    }
  }
  return children;
}

/** Every schema a value at `path` may be checked against (several where unions branch). */
export function schemasAtPath(schema: AnySchema, path: DocumentPath): AnySchema[] {
  let current: AnySchema[] = [schema];
  for (const segment of path) current = current.flatMap((candidate) => childSchemas(candidate, segment));
  return current;
}

/** Keys an object at `path` accepts, in schema order; empty when nothing there is an object. */
export function knownKeysAt(schema: AnySchema, path: DocumentPath): string[] {
  const keys = new Set<string>();
  for (const candidate of schemasAtPath(schema, path)) {
    for (const shape of inputShapes(candidate)) {
      const def = defOf(shape);
      if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) keys.add(key);
    }
  }
  return [...keys];
}

/** The `.describe()` text of a schema (kept by zod in its global registry). */
export function descriptionOf(schema: AnySchema): string {
  return z.globalRegistry.get(schema)?.description ?? '';
}
