// Hands a plan's series to the pure detectors: volume on rows, distribution per column (its
// metrics, and its top-value shares as frequencies for the categorical shift).

import type { Config } from '../config/schema.ts';
import { OTHER_VALUE, type Frequencies } from '../detect/categorical-shift.ts';
import { baselineSettingsFromDistribution, evaluateDistribution } from '../detect/distribution.ts';
import type { SeriesPoint } from '../detect/series.ts';
import { baselineSettingsFromVolume, evaluateVolume } from '../detect/volume.ts';
import type { Finding } from '../types.ts';
import type { ProfilePlan } from './profile-plans.ts';
import type { PlanSeries } from './profile-series.ts';

const TOP_PREFIX = 'top:';

export function evaluatePlan(config: Config, plan: ProfilePlan, series: PlanSeries, now: Date): Finding[] {
  const timezone = config.schedule.timezone;
  const findings: Finding[] = [];
  if (plan.volume) {
    findings.push(evaluateVolume({ asset: plan.asset, series: series.rows ?? [], settings: baselineSettingsFromVolume(plan.volume, timezone), now }));
  }
  for (const { column, config: distribution } of plan.distribution) {
    const metrics: Record<string, SeriesPoint[]> = {};
    const tops = new Map<string, SeriesPoint[]>();
    for (const [metric, points] of series.columns.get(column) ?? new Map<string, SeriesPoint[]>()) {
      if (metric.startsWith(TOP_PREFIX)) tops.set(metric.slice(TOP_PREFIX.length), points);
      else metrics[metric] = points;
    }
    const settings = baselineSettingsFromDistribution(distribution, timezone);
    const topK = topFrequencies(tops, plan.bucketMs, now);
    findings.push(evaluateDistribution({ asset: plan.asset, column, metrics, ...(topK ? { topK } : {}), settings, now }));
  }
  return findings;
}

/**
 * The newest complete bucket's value shares against those of the past buckets that are not
 * excluded. Values are never the detector's OTHER_VALUE key (it starts with a NUL byte, which
 * Postgres text cannot hold), so a value cannot be mistaken for "everything else".
 */
function topFrequencies(tops: ReadonlyMap<string, readonly SeriesPoint[]>, bucketMs: number, now: Date): { current: Frequencies; baseline: Frequencies[] } | undefined {
  const byBucket = new Map<number, { excluded: boolean; shares: Record<string, number> }>();
  for (const [value, points] of tops) {
    if (value === OTHER_VALUE) continue;
    for (const point of points) {
      const bucket = point.bucket.getTime();
      if (bucket + bucketMs > now.getTime()) continue;
      const entry = byBucket.get(bucket) ?? { excluded: point.excluded === true, shares: {} };
      entry.shares[value] = point.value;
      byBucket.set(bucket, entry);
    }
  }
  const buckets = [...byBucket.keys()].sort((a, b) => a - b);
  const newest = buckets.at(-1);
  if (newest === undefined || newest + 2 * bucketMs <= now.getTime()) return undefined;
  const baseline = buckets.slice(0, -1).flatMap((bucket) => {
    const entry = byBucket.get(bucket)!;
    return entry.excluded ? [] : [entry.shares];
  });
  return { current: byBucket.get(newest)!.shares, baseline };
}
