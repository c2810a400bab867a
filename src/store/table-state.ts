// The latest catalog snapshot per table (table_state). One statement writes a whole warehouse's
// sweep, whatever its table count, and derives last_changed_at from write-counter movement.

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
  first_seen_at: Date;
  last_changed_at: Date | null;
  inserted: boolean;
  previous_columns: CatalogColumn[] | null;
  previous_row_estimate: number | null;
  previous_size_bytes: number | null;
  previous_writes_total: number | null;
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

/** A known table's catalog figures at the previous sweep. */
export interface PreviousFigures {
  rowEstimate: number | null;
  sizeBytes: number | null;
  writesTotal: number | null;
}

export interface SnapshotResult {
  changes: Map<string, TableChangeTimes>;
  schema: SchemaChanges;
  /** Figures of tables known before this sweep (absent for tables seen for the first time). */
  previous: Map<string, PreviousFigures>;
}

// One statement for a whole warehouse. The previous figures and columns are read in the same
// snapshot the upsert overwrites them in (data-modifying CTEs all see the table as it was), so a
// sweep never reads every table back in a statement of its own. `previous` is MATERIALIZED with
// one primary-key lookup per incoming row: the planner cannot estimate jsonb_to_recordset's rows
// and, left to itself, folded it into a join that rescanned 10,000² rows.
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
  RETURNING asset, first_seen_at, last_changed_at, (xmax = 0) AS inserted
)
SELECT u.asset, u.first_seen_at, u.last_changed_at, u.inserted, p.changed_columns AS previous_columns,
  p.row_estimate AS previous_row_estimate, p.size_bytes AS previous_size_bytes, p.writes_total AS previous_writes_total
FROM upserted u LEFT JOIN previous p ON p.asset = u.asset`;

export async function upsertTableSnapshots(
  client: pg.ClientBase | pg.Pool,
  snapshots: readonly TableSnapshot[],
  sweptAt: Date,
): Promise<SnapshotResult> {
  const result: SnapshotResult = { changes: new Map(), schema: { firstSeen: new Set(), changed: new Map() }, previous: new Map() };
  if (snapshots.length === 0) return result;
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
  const rows = await client.query<TableStateRow>(UPSERT_TABLE_STATE, [JSON.stringify(records), sweptAt]);
  for (const row of rows.rows) {
    result.changes.set(row.asset, { firstSeenAt: row.first_seen_at, lastChangedAt: row.last_changed_at });
    if (row.inserted) {
      result.schema.firstSeen.add(row.asset);
      continue;
    }
    if (row.previous_columns !== null) result.schema.changed.set(row.asset, row.previous_columns);
    result.previous.set(row.asset, { rowEstimate: row.previous_row_estimate, sizeBytes: row.previous_size_bytes, writesTotal: row.previous_writes_total });
  }
  return result;
}

/** Tables of a warehouse known from earlier sweeps that this sweep did not see: gone, with their last columns. */
export async function selectVanishedTables(client: pg.ClientBase | pg.Pool, warehouse: string, sweptAt: Date): Promise<Map<string, CatalogColumn[]>> {
  const result = await client.query<{ asset: string; columns: CatalogColumn[] }>(
    'SELECT asset, columns FROM table_state WHERE warehouse = $1 AND last_seen_at < $2',
    [warehouse, sweptAt],
  );
  return new Map(result.rows.map((row) => [row.asset, row.columns]));
}
