// The latest catalog snapshot per table (table_state). A statement per few thousand tables writes
// a warehouse's sweep and derives last_changed_at from write-counter movement.

import type pg from 'pg';
import type { CatalogColumn } from '../warehouse/warehouse.ts';

export interface TableSnapshot {
  asset: string;
  warehouse: string;
  schema: string;
  name: string;
  kind: string;
  rowEstimate: number | null;
  sizeBytes: number | null;
  writesTotal: number | null;
  columns: unknown;
}

export interface TableStateRow {
  asset: string;
  first_seen_ms: number;
  last_changed_ms: number | null;
  inserted: boolean;
  previous_columns: CatalogColumn[] | null;
  changed_row_estimate: number | null;
  changed_size_bytes: number | null;
  changed_writes_total: number | null;
}

export interface TableChangeTimes {
  firstSeenAt: Date;
  lastChangedAt: Date | null;
}

/** What the upsert learned about each table's schema, compared with the previous sweep. */
export interface SchemaChanges {
  /** Tables seen for the first time: their columns are the baseline, nothing to compare. */
  firstSeen: Set<string>;
  /** Tables whose columns differ from the previous sweep's, with those previous columns. */
  changed: Map<string, CatalogColumn[]>;
}

export type CatalogFigure = 'row_estimate' | 'size_bytes' | 'writes_total';

/** A catalog figure that differs from the previous sweep's (every known figure of a new table). */
export interface ChangedFigure {
  asset: string;
  figure: CatalogFigure;
  value: number;
}

export interface SnapshotResult {
  changes: Map<string, TableChangeTimes>;
  schema: SchemaChanges;
  changedFigures: ChangedFigure[];
}

// One statement per batch of tables. The previous figures and columns are read in the same
// snapshot the upsert overwrites them in (data-modifying CTEs all see the table as it was), so a
// sweep never reads every table back in a statement of its own, and only what changed comes back
// (a figure, or the previous columns). `previous` is MATERIALIZED with one primary-key lookup
// per incoming row: the planner cannot estimate jsonb_to_recordset's rows and, left to itself,
// folded it into a join that rescanned 10,000² rows. Times come back as epoch milliseconds,
// cheaper for the client to read than timestamp text.
// A counter that went down means the statistics were reset, not that the table was written.
const UPSERT_TABLE_STATE = `
WITH incoming AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS s(asset text, warehouse text, schema_name text,
    table_name text, kind text, row_estimate float8, size_bytes float8, writes_total float8, columns jsonb)
), previous AS MATERIALIZED (
  SELECT t.asset, t.row_estimate, t.size_bytes, t.writes_total,
    CASE WHEN t.columns IS DISTINCT FROM i.columns THEN t.columns END AS changed_columns
  FROM incoming i
  CROSS JOIN LATERAL (SELECT * FROM table_state WHERE asset = i.asset) AS t
), upserted AS (
  INSERT INTO table_state AS t (asset, warehouse, schema_name, table_name, kind, row_estimate,
    size_bytes, writes_total, columns, first_seen_at, last_seen_at, last_changed_at)
  SELECT i.asset, i.warehouse, i.schema_name, i.table_name, i.kind, i.row_estimate, i.size_bytes,
    i.writes_total, i.columns, $2, $2, NULL
  FROM incoming i
  ON CONFLICT (asset) DO UPDATE SET
    kind = excluded.kind,
    row_estimate = excluded.row_estimate,
    size_bytes = excluded.size_bytes,
    writes_total = excluded.writes_total,
    columns = excluded.columns,
    last_seen_at = excluded.last_seen_at,
    last_changed_at = CASE WHEN excluded.writes_total > t.writes_total
      THEN excluded.last_seen_at ELSE t.last_changed_at END
  RETURNING asset, first_seen_at, last_changed_at, (xmax = 0) AS inserted, row_estimate, size_bytes, writes_total
)
SELECT u.asset, (extract(epoch FROM u.first_seen_at) * 1000)::float8 AS first_seen_ms,
  (extract(epoch FROM u.last_changed_at) * 1000)::float8 AS last_changed_ms, u.inserted,
  p.changed_columns AS previous_columns,
  CASE WHEN u.row_estimate IS DISTINCT FROM p.row_estimate THEN u.row_estimate END AS changed_row_estimate,
  CASE WHEN u.size_bytes IS DISTINCT FROM p.size_bytes THEN u.size_bytes END AS changed_size_bytes,
  CASE WHEN u.writes_total IS DISTINCT FROM p.writes_total THEN u.writes_total END AS changed_writes_total
FROM upserted u LEFT JOIN previous p ON p.asset = u.asset`;

// Tables per statement: a 10,000-table sweep sends its snapshots (columns included) in a few
// statements of a few MB each instead of one JSON document of tens of MB held at once.
const UPSERT_BATCH = 2_000;

/** Writes the snapshots, a batch per statement, and reports what changed since the previous sweep. */
export async function upsertTableSnapshots(
  client: pg.ClientBase | pg.Pool,
  snapshots: readonly TableSnapshot[],
  sweptAt: Date,
): Promise<SnapshotResult> {
  const result: SnapshotResult = { changes: new Map(), schema: { firstSeen: new Set(), changed: new Map() }, changedFigures: [] };
  for (let from = 0; from < snapshots.length; from += UPSERT_BATCH) {
    const rows = await upsertBatch(client, snapshots.slice(from, from + UPSERT_BATCH), sweptAt);
    for (const row of rows) collectChanges(result, row);
  }
  return result;
}

async function upsertBatch(client: pg.ClientBase | pg.Pool, snapshots: readonly TableSnapshot[], sweptAt: Date): Promise<TableStateRow[]> {
  const records = snapshots.map((snapshot) => ({
    asset: snapshot.asset,
    warehouse: snapshot.warehouse,
    schema_name: snapshot.schema,
    table_name: snapshot.name,
    kind: snapshot.kind,
    row_estimate: snapshot.rowEstimate,
    size_bytes: snapshot.sizeBytes,
    writes_total: snapshot.writesTotal,
    columns: snapshot.columns,
  }));
  const result = await client.query<TableStateRow>(UPSERT_TABLE_STATE, [JSON.stringify(records), sweptAt]);
  return result.rows;
}

function collectChanges(result: SnapshotResult, row: TableStateRow): void {
  result.changes.set(row.asset, { firstSeenAt: new Date(row.first_seen_ms), lastChangedAt: row.last_changed_ms === null ? null : new Date(row.last_changed_ms) });
  if (row.inserted) result.schema.firstSeen.add(row.asset);
  else if (row.previous_columns !== null) result.schema.changed.set(row.asset, row.previous_columns);
  if (row.changed_row_estimate !== null) result.changedFigures.push({ asset: row.asset, figure: 'row_estimate', value: row.changed_row_estimate });
  if (row.changed_size_bytes !== null) result.changedFigures.push({ asset: row.asset, figure: 'size_bytes', value: row.changed_size_bytes });
  if (row.changed_writes_total !== null) result.changedFigures.push({ asset: row.asset, figure: 'writes_total', value: row.changed_writes_total });
}

/** Tables of a warehouse known from earlier sweeps that this sweep did not see: gone, with their last columns. */
export async function selectVanishedTables(client: pg.ClientBase | pg.Pool, warehouse: string, sweptAt: Date): Promise<Map<string, CatalogColumn[]>> {
  const result = await client.query<{ asset: string; columns: CatalogColumn[] }>(
    'SELECT asset, columns FROM table_state WHERE warehouse = $1 AND last_seen_at < $2',
    [warehouse, sweptAt],
  );
  return new Map(result.rows.map((row) => [row.asset, row.columns]));
}
