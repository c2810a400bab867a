// Stores a warehouse's catalog listing: the per-table snapshot (table_state) and the metadata
// observations that later detect volume drift and learn update cadences without touching table
// data. An observation is written only when its figure changed since the previous sweep: a
// 10,000-table warehouse swept every 5 minutes would otherwise add 8.6 million rows a day of
// repeats. Readers carry the last value forward (it held until the next change).

import type pg from 'pg';
import { selectVanishedTables, upsertTableSnapshots, type SchemaChanges, type TableChangeTimes } from '../store/table-state.ts';
import { upsertObservations } from '../store/sweep-records.ts';
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
  const { changes, schema, changedFigures } = await upsertTableSnapshots(state, snapshots, sweptAt);
  const vanished = await selectVanishedTables(state, warehouse, sweptAt);
  // The figures are the metadata metrics of the same names.
  const observations = changedFigures.map(({ asset, figure, value }) => ({ asset, metric: figure, column: '', bucket: sweptAt, value }));
  await upsertObservations(state, observations, sweptAt);
  return { changes, schema: { ...schema, vanished } };
}
