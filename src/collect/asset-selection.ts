// Which catalog tables each monitor watches. Asset keys are `warehouse.schema.table`; monitor
// globs match the whole key, so `analytics.raw.*` names a warehouse and a schema.

import picomatch from 'picomatch';
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

// Table names may hold any character, `/` included, which picomatch treats as a path separator;
// matching with `bash` semantics off and `dot` on keeps `*` meaning "anything within the key".
const GLOB_OPTIONS = { dot: true, nonegate: true, noextglob: true } as const;

// `/` is swapped for a look-alike in keys and globs alike, so a glob naming a `/` still matches it.
const withoutSlashes = (text: string): string => text.replaceAll('/', '\u2215');

function compile(globs: readonly string[]): (key: string) => boolean {
  if (globs.length === 0) return () => false;
  const matcher = picomatch(globs.map(withoutSlashes), GLOB_OPTIONS);
  return (key) => matcher(withoutSlashes(key));
}

/** Whether a glob could match assets of this warehouse (its first part names a warehouse). */
export function globTargetsWarehouse(glob: string, warehouse: string): boolean {
  const firstPart = glob.split('.')[0] ?? '';
  return picomatch.isMatch(warehouse, firstPart, GLOB_OPTIONS);
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
  const selected = select === undefined ? () => true : compile([select]);
  const assets: MonitoredAsset[] = [];
  const unmatchedMonitors: number[] = [];
  monitors.forEach((monitor, monitorIndex) => {
    if (!monitor.assets.some((glob) => globTargetsWarehouse(glob, warehouse))) return;
    const included = compile(monitor.assets);
    const excluded = compile(monitor.exclude);
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
