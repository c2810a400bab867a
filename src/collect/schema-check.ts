// Schema changes of monitored tables against the columns the previous sweep saw, including
// tables that were known and are gone. The first sweep of a table records its baseline; a table
// whose columns did not change since the previous sweep is compared with itself.

import { monitorCoversAsset } from '../config/asset-globs.ts';
import type { MonitorConfig } from '../config/schema.ts';
import { evaluateSchema } from '../detect/schema-change.ts';
import type { Finding } from '../types.ts';
import type { SchemaChanges } from '../store/table-state.ts';
import type { CatalogColumn } from '../warehouse/warehouse.ts';
import type { MonitoredAsset } from './asset-selection.ts';

export function checkSchema(monitored: MonitoredAsset, schema: SchemaChanges): Finding {
  const current = monitored.table.columns;
  const previous = schema.firstSeen.has(monitored.asset) ? null : (schema.changed.get(monitored.asset) ?? current);
  return evaluateSchema({ asset: monitored.asset, previous, current });
}

/** `schema` findings for tables a schema-watching monitor covered last sweep that are gone now. */
export function droppedTableFindings(
  monitors: readonly MonitorConfig[],
  vanished: ReadonlyMap<string, CatalogColumn[]>,
  selected: (asset: string) => boolean,
): Finding[] {
  const findings: Finding[] = [];
  for (const [asset, columns] of vanished) {
    if (!selected(asset)) continue;
    if (!monitors.some((monitor) => monitor.schema && monitorCoversAsset(monitor, asset))) continue;
    findings.push(evaluateSchema({ asset, previous: columns, current: null }));
  }
  return findings;
}
