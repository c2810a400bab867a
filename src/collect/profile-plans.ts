// What each profile tick measures. A *plan* is one statement's worth of work: one table, one time
// column and bucket width, with the volume check and the distribution columns that share them.
// Pure: monitored assets, stored progress and `now` in; plans and bucket ranges out.

import type { DistributionConfig, ProfilingConfig, VolumeConfig } from '../config/schema.ts';
import type { ProfileProgress } from '../store/profile-state.ts';
import { checkId } from '../types.ts';
import type { CatalogTable, ColumnProfileRequest } from '../warehouse/warehouse.ts';
import type { MonitoredAsset } from './asset-selection.ts';

export interface ProfilePlan {
  asset: string;
  table: CatalogTable;
  timeColumn: string;
  bucketMs: number;
  /** Set when this plan measures rows for the asset's volume check. */
  volume?: VolumeConfig;
  distribution: Array<{ column: string; config: DistributionConfig }>;
}

export interface ProfileRange {
  /** Inclusive start of the oldest bucket to (re)measure. */
  from: Date;
  /** End of the newest complete bucket: the still-filling bucket is never measured. */
  to: Date;
  /** True on a table's first profile (or after its measures changed): history is measured. */
  backfill: boolean;
}

/** Table-level metrics a volume plan owns (column ''). */
export const VOLUME_METRICS = ['rows', 'max_timestamp'] as const;

/**
 * One plan per (asset, time column, bucket width). As in the sweep, the first monitor that
 * configures a check wins: `volume:asset` once, `distribution:asset:column` once per column.
 */
export function profilePlans(assets: readonly MonitoredAsset[]): ProfilePlan[] {
  const plans = new Map<string, ProfilePlan>();
  const claimed = new Set<string>();
  const claim = (check: string): boolean => !claimed.has(check) && Boolean(claimed.add(check));
  const planFor = (monitored: MonitoredAsset, timeColumn: string, bucketMs: number): ProfilePlan => {
    const key = JSON.stringify([monitored.asset, timeColumn, bucketMs]);
    let plan = plans.get(key);
    if (plan === undefined) plans.set(key, (plan = { asset: monitored.asset, table: monitored.table, timeColumn, bucketMs, distribution: [] }));
    return plan;
  };
  for (const monitored of assets) {
    const { volume, distribution } = monitored.monitor;
    // A volume check without a column watches the table's size, from the sweep's catalog estimates (size-volume.ts).
    if (volume?.column !== undefined && claim(checkId('volume', monitored.asset))) planFor(monitored, volume.column, volume.bucket).volume = volume;
    for (const column of distribution?.columns ?? []) {
      if (distribution && claim(checkId('distribution', monitored.asset, column))) {
        planFor(monitored, distribution.column, distribution.bucket).distribution.push({ column, config: distribution });
      }
    }
  }
  return [...plans.values()];
}

/** Every column measure the type allows, the configured quantiles and top-k. */
export function columnRequests(plan: ProfilePlan, profiling: ProfilingConfig): ColumnProfileRequest[] {
  return plan.distribution.map(({ column }) => ({ column, measures: 'fitting', quantiles: profiling.quantiles, topK: profiling.top_k }));
}

/** Stored observations only match a plan measuring the same things; otherwise it starts over. */
export function measuresKey(plan: ProfilePlan, profiling: ProfilingConfig): string {
  const columns = plan.distribution.map((entry) => entry.column).sort();
  return JSON.stringify({ rows: plan.volume !== undefined, columns, ...(columns.length > 0 ? { quantiles: profiling.quantiles, topK: profiling.top_k } : {}) });
}

/**
 * The buckets to (re)measure now: on a first profile the last `history` of complete buckets;
 * later, those after what was measured plus the `late_window` (late rows land in old buckets).
 * Undefined when there is nothing new.
 */
export function profileRange(
  progress: ProfileProgress | undefined,
  key: string,
  bucketMs: number,
  profiling: ProfilingConfig,
  now: Date,
): ProfileRange | undefined {
  const to = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const buckets = (ms: number): number => Math.ceil(ms / bucketMs) * bucketMs;
  const backfill = progress === undefined || progress.measuresKey !== key;
  const from = backfill ? to - buckets(profiling.history) : Math.min(progress.measuredThrough.getTime(), to - buckets(profiling.late_window));
  if (from >= to) return undefined;
  return { from: new Date(from), to: new Date(to), backfill };
}
