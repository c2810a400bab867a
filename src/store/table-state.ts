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
}

export interface TableChangeTimes {
  firstSeenAt: Date;
  lastChangedAt: Date | null;
}

// A counter that went down means the statistics were reset, not that the table was written.
const UPSERT_TABLE_STATE = `
INSERT INTO table_state AS t (asset, warehouse, schema_name, table_name, kind, row_estimate,
  size_bytes, writes_total, columns, first_seen_at, last_seen_at, last_changed_at)
SELECT s.asset, s.warehouse, s.schema_name, s.table_name, s.kind, s.row_estimate, s.size_bytes,
  s.writes_total, s.columns, $2, $2, NULL
FROM jsonb_to_recordset($1::jsonb) AS s(asset text, warehouse text, schema_name text,
  table_name text, kind text, row_estimate float8, size_bytes float8, writes_total float8, columns jsonb)
ON CONFLICT (asset) DO UPDATE SET
  kind = excluded.kind,
  row_estimate = excluded.row_estimate,
  size_bytes = excluded.size_bytes,
  writes_total = excluded.writes_total,
  columns = excluded.columns,
  last_seen_at = excluded.last_seen_at,
  last_changed_at = CASE WHEN excluded.writes_total > t.writes_total
    THEN excluded.last_seen_at ELSE t.last_changed_at END
RETURNING asset, first_seen_at, last_changed_at`;

export async function upsertTableSnapshots(
  client: pg.ClientBase | pg.Pool,
  snapshots: readonly TableSnapshot[],
  sweptAt: Date,
): Promise<Map<string, TableChangeTimes>> {
  const changes = new Map<string, TableChangeTimes>();
  if (snapshots.length === 0) return changes;
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
  for (const row of result.rows) {
    changes.set(row.asset, { firstSeenAt: row.first_seen_at, lastChangedAt: row.last_changed_at });
  }
  return changes;
}

/** The columns each known table of a warehouse had at the previous sweep (its last known schema). */
export async function selectKnownColumns(client: pg.ClientBase | pg.Pool, warehouse: string): Promise<Map<string, CatalogColumn[]>> {
  const result = await client.query<{ asset: string; columns: CatalogColumn[] }>(
    'SELECT asset, columns FROM table_state WHERE warehouse = $1',
    [warehouse],
  );
  return new Map(result.rows.map((row) => [row.asset, row.columns]));
}
