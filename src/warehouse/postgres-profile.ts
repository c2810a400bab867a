// Builds the one statement that profiles a table over a time range: every bucket's row count,
// newest timestamp and every requested column measure come from a single scan. Identifiers are
// quoted with the one helper; values (range, bucket width) are parameters.

import { WarehouseError } from '../errors.ts';
import type { PostgresColumn } from './postgres-catalog.ts';
import type { StatementClient } from './postgres-session.ts';
import { qualifiedName, quoteIdentifier } from './quote.ts';
import type { BucketProfile, BucketQuery, ColumnMeasure, TableRef } from './warehouse.ts';

/** How a time column becomes a UTC timestamptz. */
type TimeKind = 'timestamptz' | 'timestamp' | 'date' | 'text';

interface MeasureSlot {
  alias: string;
  column: string;
  measure: ColumnMeasure;
}

export interface ProfileStatement {
  sql: string;
  params: unknown[];
  slots: MeasureSlot[];
}

interface ProfileRow {
  bucket: Date;
  row_count: string;
  max_timestamp: Date | null;
  [alias: string]: unknown;
}

/** Finds a column or throws the typed error the port promises for unknown columns. */
export function requireColumn(warehouse: string, table: TableRef, columns: readonly PostgresColumn[], name: string): PostgresColumn {
  const column = columns.find((candidate) => candidate.name === name);
  if (column) return column;
  const known = columns.map((candidate) => candidate.name).join(', ');
  throw new WarehouseError(
    'warehouse_missing_object',
    warehouse,
    `Column ${JSON.stringify(name)} does not exist in ${qualifiedName(table)} on warehouse "${warehouse}". Its columns are: ${known || '(none)'}. Fix the column name in the monitor config.`,
  );
}

export function timeKindOf(warehouse: string, table: TableRef, column: PostgresColumn): TimeKind {
  if (column.baseType === 'timestamptz' || column.baseType === 'timestamp' || column.baseType === 'date') return column.baseType;
  if (column.category === 'S') return 'text';
  throw new WarehouseError(
    'warehouse_query',
    warehouse,
    `Column ${JSON.stringify(column.name)} of ${qualifiedName(table)} on warehouse "${warehouse}" has type ${column.type}, which is not a time. Use a timestamp, date or text column holding timestamps as the time column.`,
  );
}

/** The column as a UTC timestamptz (the transaction runs with TimeZone = UTC, so casts agree). */
function asUtc(kind: TimeKind, expression: string): string {
  switch (kind) {
    case 'timestamptz':
      return expression;
    case 'timestamp':
      return `(${expression} AT TIME ZONE 'UTC')`;
    case 'date':
      return `(${expression}::timestamp AT TIME ZONE 'UTC')`;
    case 'text':
      return `(${expression})::timestamptz`;
  }
}

/**
 * The range condition. Timestamp columns are compared raw against converted bounds so an index
 * on the column can serve the range; dates and text must be converted first.
 */
function rangeCondition(kind: TimeKind, column: string): string {
  if (kind === 'timestamptz') return `${column} >= $1::timestamptz AND ${column} < $2::timestamptz`;
  if (kind === 'timestamp') return `${column} >= ($1::timestamptz AT TIME ZONE 'UTC') AND ${column} < ($2::timestamptz AT TIME ZONE 'UTC')`;
  const utc = asUtc(kind, column);
  return `${utc} >= $1::timestamptz AND ${utc} < $2::timestamptz`;
}

export function buildProfileStatement(warehouse: string, query: BucketQuery, columns: readonly PostgresColumn[]): ProfileStatement {
  validateRange(warehouse, query);
  const timeColumn = requireColumn(warehouse, query.table, columns, query.timeColumn);
  const kind = timeKindOf(warehouse, query.table, timeColumn);
  const time = quoteIdentifier(timeColumn.name);
  const utc = asUtc(kind, time);
  const slots: MeasureSlot[] = [];
  const selects: string[] = [];
  for (const request of query.columns ?? []) {
    const column = requireColumn(warehouse, query.table, columns, request.column);
    for (const measure of new Set(request.measures)) {
      const alias = `m${slots.length}`;
      slots.push({ alias, column: column.name, measure });
      selects.push(`${measureExpression(warehouse, query.table, column, measure)} AS ${alias}`);
    }
  }
  // Bucket starts are epoch multiples of the width, in UTC, whatever the server's zone.
  const bucket = `to_timestamp(floor(extract(epoch FROM ${utc}) / $3::numeric) * $3::numeric)`;
  const sql = `SELECT ${bucket} AS bucket, count(*)::int8 AS row_count, max(${utc}) AS max_timestamp${selects.map((s) => `, ${s}`).join('')}
FROM ${qualifiedName(query.table)}
WHERE ${rangeCondition(kind, time)}
GROUP BY 1
ORDER BY 1`;
  return { sql, params: [query.from.toISOString(), query.to.toISOString(), String(query.bucketMs / 1000)], slots };
}

function validateRange(warehouse: string, query: BucketQuery): void {
  if (!Number.isFinite(query.bucketMs) || query.bucketMs < 1000) {
    throw new WarehouseError('warehouse_query', warehouse, `Bucket width for ${qualifiedName(query.table)} must be at least one second, got ${query.bucketMs} ms.`);
  }
  if (Number.isNaN(query.from.getTime()) || Number.isNaN(query.to.getTime())) {
    throw new WarehouseError('warehouse_query', warehouse, `Profile range for ${qualifiedName(query.table)} has an invalid date.`);
  }
}

function measureExpression(warehouse: string, table: TableRef, column: PostgresColumn, measure: ColumnMeasure): string {
  const q = quoteIdentifier(column.name);
  const numeric = column.category === 'N';
  const boolean = column.category === 'B';
  const time = column.category === 'D';
  const text = column.category === 'S';
  const reject = (needs: string) =>
    new WarehouseError(
      'warehouse_query',
      warehouse,
      `Measure "${measure}" needs a ${needs} column, but ${JSON.stringify(column.name)} of ${qualifiedName(table)} on warehouse "${warehouse}" is ${column.type}. Remove it from the monitor's columns or pick another measure.`,
    );
  switch (measure) {
    case 'null_fraction':
      return `(count(*) - count(${q}))::float8 / count(*)`;
    case 'distinct_count':
      return `count(DISTINCT ${q})::float8`;
    case 'zero_fraction':
      if (!numeric) throw reject('numeric');
      return `(count(*) FILTER (WHERE ${q} = 0))::float8 / count(*)`;
    case 'stddev':
      if (!numeric) throw reject('numeric');
      return `stddev_samp(${q})::float8`;
    case 'mean':
      // The mean of a boolean is the fraction of true, which is what a distribution check wants.
      if (boolean) return `avg(${q}::int)::float8`;
      if (!numeric) throw reject('numeric or boolean');
      return `avg(${q})::float8`;
    case 'min':
    case 'max':
      if (numeric) return `${measure}(${q})::float8`;
      // Times come back as epoch milliseconds so every measure is a number.
      if (time) return `(extract(epoch FROM ${measure}(${q})) * 1000)::float8`;
      throw reject('numeric or time');
    case 'avg_length':
      if (!text) throw reject('text');
      return `avg(char_length(${q}))::float8`;
  }
}

export async function selectProfile(client: StatementClient, statement: ProfileStatement): Promise<BucketProfile[]> {
  const result = await client.query<ProfileRow>(statement.sql, statement.params);
  return result.rows.map((row) => toBucketProfile(row, statement.slots));
}

function toBucketProfile(row: ProfileRow, slots: readonly MeasureSlot[]): BucketProfile {
  const columns: BucketProfile['columns'] = {};
  for (const slot of slots) {
    const measures = (columns[slot.column] ??= {});
    measures[slot.measure] = finiteOrNull(row[slot.alias]);
  }
  return { bucket: row.bucket, rowCount: Number(row.row_count), maxTimestamp: validDateOrNull(row.max_timestamp), columns };
}

function finiteOrNull(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : null;
}

/** pg turns `infinity` timestamps into Infinity numbers; they are not a moment in time. */
function validDateOrNull(value: unknown): Date | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
}

export function buildMaxTimestampStatement(warehouse: string, table: TableRef, columns: readonly PostgresColumn[], name: string): string {
  const column = requireColumn(warehouse, table, columns, name);
  const kind = timeKindOf(warehouse, table, column);
  const q = quoteIdentifier(column.name);
  // max() of the raw column lets an index answer; text must be converted before it orders right.
  const newest = kind === 'text' ? `max(${asUtc(kind, q)})` : asUtc(kind, `max(${q})`);
  return `SELECT ${newest} AS max_timestamp FROM ${qualifiedName(table)}`;
}

export async function selectMaxTimestamp(client: StatementClient, sql: string): Promise<Date | null> {
  const result = await client.query<{ max_timestamp: Date | null }>(sql);
  return validDateOrNull(result.rows[0]?.max_timestamp ?? null);
}
