// Reads a plan's series back from the observations for the detectors: complete buckets only,
// oldest first, over at most `history`. Rows count empty buckets as zeros; column metrics exist
// only for buckets that held rows. Buckets whose finding for the check warned or failed, or was
// marked expected, are flagged `excluded` so anomalies never become the baseline.

import type pg from 'pg';
import { selectExcludedBuckets, selectProfileObservations, type ObservationRow } from '../store/observation-series.ts';
import type { SeriesPoint } from '../detect/series.ts';
import { checkId } from '../types.ts';
import { VOLUME_METRICS, type ProfilePlan } from './profile-plans.ts';

export interface PlanSeries {
  /** Rows per bucket (volume plans only). */
  rows?: SeriesPoint[];
  /** Per distribution column, per metric (`null_fraction`, `quantile_0.5`, `top:paid`…). */
  columns: Map<string, Map<string, SeriesPoint[]>>;
}

export interface SeriesWindow {
  /** Oldest bucket that held rows; nothing is read before it. */
  firstBucket: Date | null;
  /** End of the newest complete bucket. */
  to: Date;
  historyMs: number;
}

export async function readPlanSeries(state: pg.Pool, plan: ProfilePlan, window: SeriesWindow): Promise<PlanSeries> {
  const series: PlanSeries = { columns: new Map() };
  if (window.firstBucket === null) return series;
  const to = window.to.getTime();
  const oldest = Math.ceil((to - window.historyMs) / plan.bucketMs) * plan.bucketMs;
  const from = new Date(Math.max(window.firstBucket.getTime(), oldest));
  const columns = plan.distribution.map((entry) => entry.column);
  const checks = [checkId('volume', plan.asset), ...columns.map((column) => checkId('distribution', plan.asset, column))];
  const [rows, excluded] = await Promise.all([
    selectProfileObservations(state, { asset: plan.asset, from, to: window.to, tableMetrics: plan.volume ? VOLUME_METRICS : [], columns }),
    selectExcludedBuckets(state, checks, from),
  ]);
  if (plan.volume) series.rows = rowSeries(rows, from.getTime(), to, plan.bucketMs, excluded.get(checks[0] as string));
  for (const column of columns) {
    const own = rows.filter((row) => row.column_name === column);
    series.columns.set(column, columnSeries(own, excluded.get(checkId('distribution', plan.asset, column))));
  }
  return series;
}

function rowSeries(rows: readonly ObservationRow[], from: number, to: number, bucketMs: number, excluded: ReadonlySet<number> | undefined): SeriesPoint[] {
  const counts = new Map(rows.filter((row) => row.column_name === '' && row.metric === 'rows').map((row) => [row.bucket.getTime(), row.value]));
  const points: SeriesPoint[] = [];
  for (let bucket = from; bucket < to; bucket += bucketMs) points.push(point(bucket, counts.get(bucket) ?? 0, excluded));
  return points;
}

/**
 * One series per metric. A top value missing from a bucket where the column had top values was
 * not among them: its share there is zero, not unknown.
 */
function columnSeries(rows: readonly ObservationRow[], excluded: ReadonlySet<number> | undefined): Map<string, SeriesPoint[]> {
  const byMetric = new Map<string, Map<number, number>>();
  const topBuckets = new Set<number>();
  for (const row of rows) {
    let values = byMetric.get(row.metric);
    if (values === undefined) byMetric.set(row.metric, (values = new Map()));
    values.set(row.bucket.getTime(), row.value);
    if (row.metric.startsWith('top:')) topBuckets.add(row.bucket.getTime());
  }
  const orderedTopBuckets = [...topBuckets].sort((a, b) => a - b);
  const series = new Map<string, SeriesPoint[]>();
  for (const [metric, values] of byMetric) {
    const buckets = metric.startsWith('top:') ? orderedTopBuckets : [...values.keys()].sort((a, b) => a - b);
    series.set(metric, buckets.map((bucket) => point(bucket, values.get(bucket) ?? 0, excluded)));
  }
  return series;
}

function point(bucket: number, value: number, excluded: ReadonlySet<number> | undefined): SeriesPoint {
  return excluded?.has(bucket) ? { bucket: new Date(bucket), value, excluded: true } : { bucket: new Date(bucket), value };
}
