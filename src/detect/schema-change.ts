// Schema changes against the last known snapshot of a table's columns. Additions warn (usually
// harmless, worth knowing); removals and type changes fail (they break readers); a table that
// disappeared fails.

import { checkId, type Finding } from '../types.ts';
import type { CatalogColumn } from '../warehouse/warehouse.ts';

export interface SchemaDiff {
  added: CatalogColumn[];
  removed: CatalogColumn[];
  retyped: Array<{ name: string; from: string; to: string }>;
  /** The table was known and is gone. */
  dropped: boolean;
}

export interface SchemaInput {
  asset: string;
  /** Last known columns; null when the table was never seen. */
  previous: readonly CatalogColumn[] | null;
  /** Columns now; null when the table does not exist. */
  current: readonly CatalogColumn[] | null;
}

/** Columns compared by name (a rename is a removal plus an addition), in column order. */
export function diffSchema(previous: readonly CatalogColumn[] | null, current: readonly CatalogColumn[] | null): SchemaDiff {
  if (previous === null || current === null) {
    return { added: [], removed: [], retyped: [], dropped: previous !== null && current === null };
  }
  const before = new Map(previous.map((column) => [column.name, column]));
  const after = new Map(current.map((column) => [column.name, column]));
  const byPosition = (a: CatalogColumn, b: CatalogColumn): number => a.position - b.position;
  return {
    added: current.filter((column) => !before.has(column.name)).sort(byPosition),
    removed: previous.filter((column) => !after.has(column.name)).sort(byPosition),
    retyped: current
      .filter((column) => before.has(column.name) && before.get(column.name)!.type !== column.type)
      .sort(byPosition)
      .map((column) => ({ name: column.name, from: before.get(column.name)!.type, to: column.type })),
    dropped: false,
  };
}

export function evaluateSchema(input: SchemaInput): Finding {
  const { asset } = input;
  const diff = diffSchema(input.previous, input.current);
  const base = { check: checkId('schema', asset), kind: 'schema' as const, asset };
  const changes = diff.added.length + diff.removed.length + diff.retyped.length;
  if (diff.dropped) return { ...base, status: 'fail', observed: 0, message: `${asset}: table dropped (it had ${input.previous!.length} columns)` };
  if (input.current === null) return { ...base, status: 'ok', observed: null, message: `${asset}: table not found yet` };
  if (input.previous === null) return { ...base, status: 'ok', observed: 0, message: `${asset}: first schema snapshot (${input.current.length} columns)` };
  if (changes === 0) return { ...base, status: 'ok', observed: 0, message: `${asset}: schema unchanged (${input.current.length} columns)` };
  const breaking = diff.removed.length + diff.retyped.length > 0;
  const parts = [
    ...diff.retyped.map((change) => `column ${change.name} ${change.from} → ${change.to}`),
    ...diff.removed.map((column) => `column ${column.name} removed`),
    ...diff.added.map((column) => `column ${column.name} ${column.type} added`),
  ];
  return { ...base, status: breaking ? 'fail' : 'warn', observed: changes, message: `${asset}: ${parts.join('; ')}` };
}
