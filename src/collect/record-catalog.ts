// Stores a warehouse's catalog listing: the per-table snapshot (table_state) and the metadata
// observations that later detect volume drift and learn update cadences without touching table
// data. An observation is written only when its figure changed since the previous sweep: a
// 10,000-table warehouse swept every 5 minutes would otherwise add 8.6 million rows a day of
// repeats. Readers carry the last value forward (it held until the next change).

import type pg from 'pg';
import { selectVanishedTables, upsertTableSnapshots, type PreviousFigures, type SchemaChanges, type TableChangeTimes } from '../store/table-state.ts';
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
  const { changes, schema, previous } = await upsertTableSnapshots(state, snapshots, sweptAt);
  const vanished = await selectVanishedTables(state, warehouse, sweptAt);
  const observations = snapshots.flatMap((snapshot) => metadataObservations(snapshot, previous.get(snapshot.asset), sweptAt));
  await upsertObservations(state, observations, sweptAt);
  return { changes, schema: { ...schema, vanished } };
}

function metadataObservations(
  snapshot: { asset: string } & PreviousFigures,
  before: PreviousFigures | undefined,
  sweptAt: Date,
): Observation[] {
  const metrics: Array<[string, number | null, number | null | undefined]> = [
    ['row_estimate', snapshot.rowEstimate, before?.rowEstimate],
    ['size_bytes', snapshot.sizeBytes, before?.sizeBytes],
    ['writes_total', snapshot.writesTotal, before?.writesTotal],
  ];
  return metrics
    .filter(([, value, previous]) => value !== null && value !== previous)
    .map(([metric, value]) => ({ asset: snapshot.asset, metric, column: '', bucket: sweptAt, value: value as number }));
}
