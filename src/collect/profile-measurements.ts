// Turns bucket profiles into observations. Metric names: `rows` and `max_timestamp` (epoch ms)
// for the table (column ''); per column the measure names (`null_fraction`, `mean`…),
// `quantile_<q>` (e.g. `quantile_0.5`) and `top:<value>` — the share of the bucket's rows holding
// that value. Top values go into observations like any metric (one table, one upsert, one
// retention, one series reader) and are kept only for low-cardinality columns: a bucket whose
// distinct count is at most top_k, so the kept values are the column's whole distribution and
// high-cardinality columns (ids, emails) do not flood the store with meaningless series.

import type { Observation } from '../types.ts';
import type { BucketProfile } from '../warehouse/warehouse.ts';
import type { ProfilePlan, ProfileRange } from './profile-plans.ts';

export interface Measurements {
  observations: Observation[];
  /** Oldest bucket that held rows, as now known. */
  firstBucket: Date | null;
}

export function measurementsOf(plan: ProfilePlan, range: ProfileRange, profiles: readonly BucketProfile[], knownFirstBucket: Date | null, topK: number): Measurements {
  const observations: Observation[] = [];
  const oldestNow = profiles.find((profile) => profile.rowCount > 0)?.bucket ?? null;
  const firstBucket = earliest(range.backfill ? null : knownFirstBucket, oldestNow);
  for (const profile of profiles) observations.push(...columnObservations(plan, profile, topK));
  if (plan.volume !== undefined && firstBucket !== null) observations.push(...rowObservations(plan, range, profiles, firstBucket));
  return { observations, firstBucket };
}

/** Rows per bucket from the first bucket that ever held rows: empty buckets are zeros. */
function rowObservations(plan: ProfilePlan, range: ProfileRange, profiles: readonly BucketProfile[], firstBucket: Date): Observation[] {
  const byBucket = new Map(profiles.map((profile) => [profile.bucket.getTime(), profile]));
  const observations: Observation[] = [];
  const start = Math.max(range.from.getTime(), firstBucket.getTime());
  for (let bucket = start; bucket < range.to.getTime(); bucket += plan.bucketMs) {
    const profile = byBucket.get(bucket);
    const at = new Date(bucket);
    observations.push({ asset: plan.asset, metric: 'rows', column: '', bucket: at, value: profile?.rowCount ?? 0 });
    if (profile?.maxTimestamp) observations.push({ asset: plan.asset, metric: 'max_timestamp', column: '', bucket: at, value: profile.maxTimestamp.getTime() });
  }
  return observations;
}

function columnObservations(plan: ProfilePlan, profile: BucketProfile, topK: number): Observation[] {
  const observations: Observation[] = [];
  const add = (column: string, metric: string, value: number | null | undefined): void => {
    if (value !== null && value !== undefined && Number.isFinite(value)) observations.push({ asset: plan.asset, metric, column, bucket: profile.bucket, value });
  };
  for (const { column } of plan.distribution) {
    const measures = profile.columns[column] ?? {};
    for (const [measure, value] of Object.entries(measures)) add(column, measure, value);
    for (const [quantile, value] of Object.entries(profile.quantiles?.[column] ?? {})) add(column, `quantile_${quantile}`, value);
    const distinct = measures.distinct_count;
    if (distinct === null || distinct === undefined || distinct > topK || profile.rowCount === 0) continue;
    for (const top of profile.topValues?.[column] ?? []) add(column, `top:${top.value}`, top.count / profile.rowCount);
  }
  return observations;
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}
