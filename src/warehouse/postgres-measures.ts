// The aggregate expression behind each column measure, and which measures a column's type allows.
// Expressions take a reference to the column (its quoted name, or an alias inside the profile's
// scan) so the same SQL serves the plain statement and the one that also counts top values.

import { WarehouseError } from '../errors.ts';
import type { PostgresColumn } from './postgres-catalog.ts';
import { qualifiedName } from './quote.ts';
import { COLUMN_MEASURES, type ColumnMeasure, type TableRef } from './warehouse.ts';

export interface MeasureTarget {
  warehouse: string;
  table: TableRef;
  column: PostgresColumn;
  /** SQL naming the column's value in the row being aggregated. */
  ref: string;
  /** SQL of a boolean, true when the column's collation is deterministic (see `comparesBytewise`). */
  deterministicCollation?: string;
}

/**
 * Text types whose values are equal exactly when their bytes are (after char(n) padding is cut),
 * as long as the collation is deterministic; citext folds case, so it is not one of them.
 */
export function comparesBytewise(column: PostgresColumn): boolean {
  return column.baseType === 'text' || column.baseType === 'varchar' || column.baseType === 'bpchar';
}

/**
 * Whether the column's collation is deterministic, looked up once per statement (an uncorrelated
 * subquery over the catalog, not the table). Nondeterministic ones (ICU, case-insensitive) can
 * call different bytes equal; when in doubt the answer is false, the safe side.
 */
export function deterministicCollationCheck(tableParameter: number, columnParameter: number): string {
  return `(SELECT coalesce(bool_and(co.collisdeterministic), false) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation WHERE a.attrelid = $${tableParameter}::text::regclass AND a.attname = $${columnParameter}::text)`;
}

/** Every measure the column's type allows (the `fitting` request). */
export function fittingMeasures(column: PostgresColumn): ColumnMeasure[] {
  return COLUMN_MEASURES.filter((measure) => measureFits(column, measure));
}

/** Quantiles only mean something for numbers. */
export function takesQuantiles(column: PostgresColumn): boolean {
  return column.category === 'N';
}

function measureFits(column: PostgresColumn, measure: ColumnMeasure): boolean {
  switch (measure) {
    case 'null_fraction':
    case 'distinct_count':
      return true;
    case 'zero_fraction':
    case 'stddev':
      return column.category === 'N';
    case 'mean':
      return column.category === 'N' || column.category === 'B';
    case 'min':
    case 'max':
      return column.category === 'N' || column.category === 'D';
    case 'avg_length':
      return column.category === 'S';
  }
}

export function measureExpression(target: MeasureTarget, measure: ColumnMeasure): string {
  const { column, ref: q } = target;
  if (!measureFits(column, measure)) throw misfit(target, measure);
  switch (measure) {
    case 'null_fraction':
      return `(count(*) - count(${q}))::float8 / count(*)`;
    case 'distinct_count':
      // count(DISTINCT) sorts the bucket's values once per column; a boolean has at most two,
      // so asking whether each occurs gives the same count without the sort.
      if (column.category === 'B') return `((bool_or(${q}) IS TRUE)::int + (bool_and(${q}) IS FALSE)::int)::float8`;
      // Under a deterministic collation, equal text is equal bytes, and sorting by bytes ("C")
      // is several times cheaper than the locale's comparison; the count is the same. The
      // aggregate the check rules out sees no rows, so it costs nothing.
      if (target.deterministicCollation) {
        const check = target.deterministicCollation;
        return `(count(DISTINCT ${q} COLLATE "C") FILTER (WHERE ${check}) + count(DISTINCT ${q}) FILTER (WHERE NOT ${check}))::float8`;
      }
      return `count(DISTINCT ${q})::float8`;
    case 'zero_fraction':
      return `(count(*) FILTER (WHERE ${q} = 0))::float8 / count(*)`;
    case 'stddev':
      return `stddev_samp(${q})::float8`;
    case 'mean':
      // The mean of a boolean is the fraction of true, which is what a distribution check wants.
      return column.category === 'B' ? `avg(${q}::int)::float8` : `avg(${q})::float8`;
    case 'min':
    case 'max':
      // Times come back as epoch milliseconds so every measure is a number.
      return column.category === 'D' ? `(extract(epoch FROM ${measure}(${q})) * 1000)::float8` : `${measure}(${q})::float8`;
    case 'avg_length':
      return `avg(char_length(${q}))::float8`;
  }
}

/**
 * All of a column's quantiles in one ordered-set aggregate (one sort per bucket group); the
 * quantile list is a parameter, the result a float8[] in the same order.
 */
export function quantilesExpression(target: MeasureTarget, parameter: number): string {
  if (!takesQuantiles(target.column)) throw misfit(target, 'quantiles');
  return `percentile_cont($${parameter}::float8[]) WITHIN GROUP (ORDER BY ${target.ref}::float8)`;
}

function misfit(target: MeasureTarget, measure: string): WarehouseError {
  const needs: Record<string, string> = {
    zero_fraction: 'numeric',
    stddev: 'numeric',
    quantiles: 'numeric',
    mean: 'numeric or boolean',
    min: 'numeric or time',
    max: 'numeric or time',
    avg_length: 'text',
  };
  const { warehouse, table, column } = target;
  return new WarehouseError(
    'warehouse_query',
    warehouse,
    `Measure "${measure}" needs a ${needs[measure] ?? 'different'} column, but ${JSON.stringify(column.name)} of ${qualifiedName(table)} on warehouse "${warehouse}" is ${column.type}. Remove it from the monitor's columns or pick another measure.`,
  );
}
