// Stores a warehouse's catalog listing: the per-table snapshot (table_state) and the metadata
// observations that later detect volume drift without touching table data.

import type pg from 'pg';
import { selectKnownColumns, upsertTableSnapshots, type TableChangeTimes } from '../store/table-state.ts';
import { upsertObservations } from '../store/sweep-records.ts';
import type { Observation } from '../types.ts';
import type { CatalogColumn, CatalogTable } from '../warehouse/warehouse.ts';
import { assetKey } from './asset-selection.ts';

export interface CatalogRecord {
  changes: Map<string, TableChangeTimes>;
  /** Each known table's columns as of the previous sweep, read before this one overwrote them. */
  previousColumns: Map<string, CatalogColumn[]>;
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
  const previousColumns = await selectKnownColumns(state, warehouse);
  const changes = await upsertTableSnapshots(state, snapshots, sweptAt);
  await upsertObservations(state, snapshots.flatMap((snapshot) => metadataObservations(snapshot, sweptAt)), sweptAt);
  return { changes, previousColumns };
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
