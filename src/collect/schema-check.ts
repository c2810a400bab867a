// Schema changes of monitored tables against the columns the previous sweep saw, including
// tables that were known and are gone. The first sweep of a table records its baseline.

import { monitorCoversAsset } from '../config/asset-globs.ts';
import type { MonitorConfig } from '../config/schema.ts';
import { evaluateSchema } from '../detect/schema-change.ts';
import type { Finding } from '../types.ts';
import type { CatalogColumn } from '../warehouse/warehouse.ts';
import type { MonitoredAsset } from './asset-selection.ts';

export function checkSchema(monitored: MonitoredAsset, previousColumns: ReadonlyMap<string, CatalogColumn[]>): Finding {
  return evaluateSchema({ asset: monitored.asset, previous: previousColumns.get(monitored.asset) ?? null, current: monitored.table.columns });
}

/** `schema` findings for tables a schema-watching monitor covered last sweep that are gone now. */
export function droppedTableFindings(
  monitors: readonly MonitorConfig[],
  previousColumns: ReadonlyMap<string, CatalogColumn[]>,
  currentAssets: ReadonlySet<string>,
  selected: (asset: string) => boolean,
): Finding[] {
  const findings: Finding[] = [];
  for (const [asset, columns] of previousColumns) {
    if (currentAssets.has(asset) || !selected(asset)) continue;
    if (!monitors.some((monitor) => monitor.schema && monitorCoversAsset(monitor, asset))) continue;
    findings.push(evaluateSchema({ asset, previous: columns, current: null }));
  }
  return findings;
}
