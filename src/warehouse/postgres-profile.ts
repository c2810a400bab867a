// Builds the one statement that profiles a table over a time range: every bucket's row count,
// newest timestamp and every requested column measure come from a single scan. Identifiers are
// quoted with the one helper; values (range, bucket width) are parameters.

import { WarehouseError } from '../errors.ts';
import type { PostgresColumn } from './postgres-catalog.ts';
import type { StatementClient } from './postgres-session.ts';
import { qualifiedName, quoteIdentifier } from './quote.ts';
import {
  comparesBytewise,
  deterministicCollationCheck,
  fittingMeasures,
  measureExpression,
  quantilesExpression,
  takesQuantiles,
  type MeasureTarget,
} from './postgres-measures.ts';
import type { BucketProfile, BucketQuery, ColumnMeasure, TableRef, TopValue } from './warehouse.ts';

/** How a time column becomes a UTC timestamptz. */
type TimeKind = 'timestamptz' | 'timestamp' | 'date' | 'text';

interface MeasureSlot {
  alias: string;
  column: string;
  measure: ColumnMeasure;
}

interface QuantileSlot {
  alias: string;
  column: string;
  quantiles: number[];
}

/** A column whose most frequent values are counted; `slot` tags its rows in the statement. */
interface TopSlot {
  slot: number;
  column: string;
  k: number;
}

export interface ProfileStatement {
  sql: string;
  params: unknown[];
  slots: MeasureSlot[];
  quantileSlots: QuantileSlot[];
  topSlots: TopSlot[];
}

interface ProfileRow {
  bucket: Date;
  row_count: string;
  max_timestamp: Date | null;
  /** [slot, value, count] triples, most frequent first within a slot. */
  top_values?: Array<[number, string, number]> | null;
  [alias: string]: unknown;
}

/** Longer values are cut before counting: a top value is a category, not a document. */
const TOP_VALUE_MAX_LENGTH = 200;

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
  const requested = (query.columns ?? []).map((request) => ({ request, column: requireColumn(warehouse, query.table, columns, request.column) }));
  // Counting top values needs the rows twice (aggregates per bucket, counts per value), so the
  // scan is materialized once and read by both; without top-k the plain GROUP BY is cheaper.
  const scanned = requested.some(({ request }) => (request.topK ?? 0) > 0);
  const params: unknown[] = [query.from.toISOString(), query.to.toISOString(), String(query.bucketMs / 1000)];
  const statement: ProfileStatement = { sql: '', params, slots: [], quantileSlots: [], topSlots: [] };
  const selects: string[] = [];
  requested.forEach(({ request, column }, index) => {
    const target: MeasureTarget = { warehouse, table: query.table, column, ref: scanned ? `c${index}` : quoteIdentifier(column.name) };
    const measures = request.measures === 'fitting' ? fittingMeasures(column) : [...new Set(request.measures)];
    if (measures.includes('distinct_count') && comparesBytewise(column)) {
      params.push(qualifiedName(query.table), column.name);
      target.deterministicCollation = deterministicCollationCheck(params.length - 1, params.length);
    }
    for (const measure of measures) {
      const alias = `m${statement.slots.length}`;
      statement.slots.push({ alias, column: column.name, measure });
      selects.push(`${measureExpression(target, measure)} AS ${alias}`);
    }
    if (request.quantiles?.length && (request.measures !== 'fitting' || takesQuantiles(column))) {
      const alias = `q${statement.quantileSlots.length}`;
      params.push(request.quantiles);
      statement.quantileSlots.push({ alias, column: column.name, quantiles: request.quantiles });
      selects.push(`${quantilesExpression(target, params.length)} AS ${alias}`);
    }
    if ((request.topK ?? 0) > 0) statement.topSlots.push({ slot: index, column: column.name, k: request.topK as number });
  });
  // Bucket starts are epoch multiples of the width, in UTC, whatever the server's zone.
  const bucket = `to_timestamp(floor(extract(epoch FROM ${utc}) / $3::numeric) * $3::numeric)`;
  const from = `FROM ${qualifiedName(query.table)}
WHERE ${rangeCondition(kind, time)}`;
  const aggregates = selects.map((select) => `, ${select}`).join('');
  if (!scanned) {
    statement.sql = `SELECT ${bucket} AS bucket, count(*)::int8 AS row_count, max(${utc}) AS max_timestamp${aggregates}
${from}
GROUP BY 1
ORDER BY 1`;
    return statement;
  }
  params.push(Math.max(...statement.topSlots.map((slot) => slot.k)));
  const columnsOut = requested.map(({ column }, index) => `, ${quoteIdentifier(column.name)} AS c${index}`).join('');
  statement.sql = topValuesStatement(`SELECT ${bucket} AS pw_bucket, ${utc} AS pw_time${columnsOut}\n${from}`, aggregates, statement.topSlots, params.length);
  return statement;
}

/** The scan once, then per-bucket aggregates and per-value counts ranked within each bucket. */
function topValuesStatement(scan: string, aggregates: string, topSlots: readonly TopSlot[], limitParameter: number): string {
  const values = topSlots.map((top) => `(${top.slot}, left(s.c${top.slot}::text, ${TOP_VALUE_MAX_LENGTH}))`).join(', ');
  return `WITH scanned AS MATERIALIZED (
${scan}
), profile AS (
  SELECT pw_bucket AS bucket, count(*)::int8 AS row_count, max(pw_time) AS max_timestamp${aggregates}
  FROM scanned GROUP BY 1
), value_counts AS (
  SELECT s.pw_bucket, v.slot, v.value, count(*)::int8 AS n
  FROM scanned s CROSS JOIN LATERAL (VALUES ${values}) AS v(slot, value)
  WHERE v.value IS NOT NULL
  GROUP BY 1, 2, 3
), ranked AS (
  SELECT pw_bucket, slot, value, n, row_number() OVER (PARTITION BY pw_bucket, slot ORDER BY n DESC, value) AS rank
  FROM value_counts
), top AS (
  SELECT pw_bucket AS bucket, jsonb_agg(jsonb_build_array(slot, value, n) ORDER BY slot, rank) AS top_values
  FROM ranked WHERE rank <= $${limitParameter}::int8 GROUP BY 1
)
SELECT profile.*, top.top_values FROM profile LEFT JOIN top USING (bucket)
ORDER BY 1`;
}

function validateRange(warehouse: string, query: BucketQuery): void {
  if (!Number.isFinite(query.bucketMs) || query.bucketMs < 1000) {
    throw new WarehouseError('warehouse_query', warehouse, `Bucket width for ${qualifiedName(query.table)} must be at least one second, got ${query.bucketMs} ms.`);
  }
  if (Number.isNaN(query.from.getTime()) || Number.isNaN(query.to.getTime())) {
    throw new WarehouseError('warehouse_query', warehouse, `Profile range for ${qualifiedName(query.table)} has an invalid date.`);
  }
}

export async function selectProfile(client: StatementClient, statement: ProfileStatement): Promise<BucketProfile[]> {
  const result = await client.query<ProfileRow>(statement.sql, statement.params);
  return result.rows.map((row) => toBucketProfile(row, statement));
}

function toBucketProfile(row: ProfileRow, statement: ProfileStatement): BucketProfile {
  const columns: BucketProfile['columns'] = {};
  for (const slot of statement.slots) {
    const measures = (columns[slot.column] ??= {});
    measures[slot.measure] = finiteOrNull(row[slot.alias]);
  }
  const profile: BucketProfile = { bucket: row.bucket, rowCount: Number(row.row_count), maxTimestamp: validDateOrNull(row.max_timestamp), columns };
  if (statement.quantileSlots.length > 0) profile.quantiles = quantilesOf(row, statement.quantileSlots);
  if (statement.topSlots.length > 0) profile.topValues = topValuesOf(row, statement.topSlots);
  return profile;
}

function quantilesOf(row: ProfileRow, slots: readonly QuantileSlot[]): Record<string, Record<string, number | null>> {
  const result: Record<string, Record<string, number | null>> = {};
  for (const slot of slots) {
    const values = Array.isArray(row[slot.alias]) ? (row[slot.alias] as unknown[]) : [];
    const byQuantile = (result[slot.column] ??= {});
    slot.quantiles.forEach((quantile, index) => {
      byQuantile[String(quantile)] = finiteOrNull(values[index]);
    });
  }
  return result;
}

function topValuesOf(row: ProfileRow, slots: readonly TopSlot[]): Record<string, TopValue[]> {
  const result: Record<string, TopValue[]> = {};
  for (const slot of slots) {
    const values = (row.top_values ?? []).filter(([tag]) => tag === slot.slot).slice(0, slot.k);
    result[slot.column] = values.map(([, value, count]) => ({ value, count: Number(count) }));
  }
  return result;
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
