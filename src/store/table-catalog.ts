// The sweep's last catalog snapshot (table_state) read back as catalog tables, for commands that
// must work from the state DB alone (backtest): monitor globs need table names, and asking the
// warehouse for them would make a report about the past depend on the warehouse being up now.

import type pg from 'pg';
import type { CatalogColumn, CatalogTable, RelationKind } from '../warehouse/warehouse.ts';

export interface CatalogSnapshotRow {
  schema_name: string;
  table_name: string;
  kind: RelationKind;
  row_estimate: number | null;
  size_bytes: number | null;
  columns: CatalogColumn[];
}

const SELECT_CATALOG_SNAPSHOT = `
SELECT schema_name, table_name, kind, row_estimate, size_bytes, columns
FROM table_state
WHERE warehouse = $1
ORDER BY schema_name, table_name`;

/** Every table a sweep of this warehouse has recorded. Write counters are only kept summed, so `writes` is null. */
export async function selectCatalogSnapshot(client: pg.ClientBase | pg.Pool, warehouse: string): Promise<CatalogTable[]> {
  const result = await client.query<CatalogSnapshotRow>(SELECT_CATALOG_SNAPSHOT, [warehouse]);
  return result.rows.map((row) => ({
    schema: row.schema_name,
    name: row.table_name,
    kind: row.kind,
    columns: row.columns,
    rowEstimate: row.row_estimate,
    sizeBytes: row.size_bytes,
    writes: null,
  }));
}
