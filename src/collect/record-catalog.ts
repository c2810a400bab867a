// Stores a warehouse's catalog listing: the per-table snapshot (table_state) and the metadata
// observations that later detect volume drift without touching table data.

import type pg from 'pg';
import { selectVanishedTables, upsertTableSnapshots, type SchemaChanges, type TableChangeTimes } from '../store/table-state.ts';
import { upsertObservations } from '../store/sweep-records.ts';
import type { Observation } from '../types.ts';
import type { CatalogColumn, CatalogTable } from '../warehouse/warehouse.ts';
import { assetKey } from './asset-selection.ts';

export interface CatalogRecord {
  changes: Map<string, TableChangeTimes>;
  /** Schemas compared with the previous sweep's, and the tables that vanished since. */
  schema: SchemaChanges & { vanished: Map<string, CatalogColumn[]> };
}

export async function recordCatalog(
  state: pg.Pool,
  warehouse: string,
  tables: readonly CatalogTable[],
  sweptAt: Date,
): Promise<CatalogRecord> {
  const snapshots = tables.map((table) => ({
    asset: assetKey(warehouse, table),
    warehouse,
    schema: table.schema,
    name: table.name,
    kind: table.kind,
    rowEstimate: table.rowEstimate,
    sizeBytes: table.sizeBytes,
    writesTotal: table.writes ? table.writes.inserts + table.writes.updates + table.writes.deletes : null,
    columns: table.columns,
  }));
  const { changes, schema } = await upsertTableSnapshots(state, snapshots, sweptAt);
  const vanished = await selectVanishedTables(state, warehouse, sweptAt);
  await upsertObservations(state, snapshots.flatMap((snapshot) => metadataObservations(snapshot, sweptAt)), sweptAt);
  return { changes, schema: { ...schema, vanished } };
}

function metadataObservations(
  snapshot: { asset: string; rowEstimate: number | null; sizeBytes: number | null; writesTotal: number | null },
  sweptAt: Date,
): Observation[] {
  const metrics: Array<[string, number | null]> = [
    ['row_estimate', snapshot.rowEstimate],
    ['size_bytes', snapshot.sizeBytes],
    ['writes_total', snapshot.writesTotal],
  ];
  return metrics
    .filter((entry): entry is [string, number] => entry[1] !== null)
    .map(([metric, value]) => ({ asset: snapshot.asset, metric, column: '', bucket: sweptAt, value }));
}
