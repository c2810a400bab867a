// How monitor globs match asset keys (`warehouse.schema.table`). One definition, used by the
// sweep to pick assets and by routing to find an asset's owner, so both always agree.

import picomatch from 'picomatch';
import type { MonitorConfig } from './schema.ts';

// Table names may hold any character, `/` included, which picomatch treats as a path separator;
// matching with `bash` semantics off and `dot` on keeps `*` meaning "anything within the key".
const GLOB_OPTIONS = { dot: true, nonegate: true, noextglob: true } as const;

// `/` is swapped for a look-alike in keys and globs alike, so a glob naming a `/` still matches it.
const withoutSlashes = (text: string): string => text.replaceAll('/', '\u2215');

/** A predicate: does an asset key match any of these globs? */
export function assetMatcher(globs: readonly string[]): (key: string) => boolean {
  if (globs.length === 0) return () => false;
  const matcher = picomatch(globs.map(withoutSlashes), GLOB_OPTIONS);
  return (key) => matcher(withoutSlashes(key));
}

/** Whether a glob could match assets of this warehouse (its first part names a warehouse). */
export function globTargetsWarehouse(glob: string, warehouse: string): boolean {
  const firstPart = glob.split('.')[0] ?? '';
  return picomatch.isMatch(warehouse, firstPart, GLOB_OPTIONS);
}

/** Whether a monitor watches an asset: one of its globs matches and none of its excludes does. */
export function monitorCoversAsset(monitor: MonitorConfig, asset: string): boolean {
  return assetMatcher(monitor.assets)(asset) && !assetMatcher(monitor.exclude)(asset);
}
