// Which catalog tables each monitor watches. Asset keys are `warehouse.schema.table`; monitor
// globs match the whole key, so `analytics.raw.*` names a warehouse and a schema.

import { assetMatcher, globTargetsWarehouse } from '../config/asset-globs.ts';
import type { MonitorConfig } from '../config/schema.ts';
import type { CatalogTable } from '../warehouse/warehouse.ts';

export interface MonitoredAsset {
  asset: string;
  warehouse: string;
  table: CatalogTable;
  monitor: MonitorConfig;
  monitorIndex: number;
}

export interface AssetSelection {
  assets: MonitoredAsset[];
  /** Monitors (by index) whose globs matched no table of this warehouse. */
  unmatchedMonitors: number[];
}

export function assetKey(warehouse: string, table: { schema: string; name: string }): string {
  return `${warehouse}.${table.schema}.${table.name}`;
}

/**
 * The monitored assets of one warehouse, one entry per (monitor, table). A later monitor does not
 * replace an earlier one: each monitor's checks apply, so a table may appear under several.
 * `select` narrows to assets matching a glob (the CLI's --select).
 */
export function selectMonitoredAssets(
  warehouse: string,
  tables: readonly CatalogTable[],
  monitors: readonly MonitorConfig[],
  select?: string,
): AssetSelection {
  const selected = select === undefined ? () => true : assetMatcher([select]);
  const assets: MonitoredAsset[] = [];
  const unmatchedMonitors: number[] = [];
  monitors.forEach((monitor, monitorIndex) => {
    if (!monitor.assets.some((glob) => globTargetsWarehouse(glob, warehouse))) return;
    const included = assetMatcher(monitor.assets);
    const excluded = assetMatcher(monitor.exclude);
    let matched = 0;
    for (const table of tables) {
      const asset = assetKey(warehouse, table);
      if (!included(asset) || excluded(asset)) continue;
      matched += 1;
      if (selected(asset)) assets.push({ asset, warehouse, table, monitor, monitorIndex });
    }
    if (matched === 0) unmatchedMonitors.push(monitorIndex);
  });
  return { assets, unmatchedMonitors };
}
