// The walk forward behind `pipewarden backtest`: every complete bucket of the window is scored as
// the profile job would have scored it when it was the newest — the same detectors
// (evaluatePlan, sizeFinding), fed only the points before it within `profiling.history` — and a
// bucket the replay flags leaves the baselines of the buckets after it, exactly like a flagged
// bucket in the live path. Pure: series in (their `excluded` flags saying what was out before the
// window), alerts out; the caller's series are not modified.

import type { Config } from '../config/schema.ts';
import type { SeriesPoint } from '../detect/series.ts';
import { checkId, type CheckKind, type Finding } from '../types.ts';
import { evaluatePlan } from './profile-evaluation.ts';
import type { ProfilePlan } from './profile-plans.ts';
import type { PlanSeries } from './profile-series.ts';
import { sizeFinding, type SizeCheck } from './size-volume.ts';

export interface ReplayWindow {
  /** Buckets starting at or after this are scored and reported. */
  fromMs: number;
  /** End of the newest complete bucket. */
  toMs: number;
  /** How far back each baseline reaches (`profiling.history`), as in the live path. */
  historyMs: number;
}

/** One check's replay: how many buckets of the window were scored, and which would have alerted. */
export interface CheckReplay {
  check: string;
  kind: CheckKind;
  asset: string;
  column?: string;
  buckets: number;
  alerts: Finding[];
}

export function isAlert(finding: Finding): boolean {
  return finding.status === 'warn' || finding.status === 'fail';
}

/** Sorted points with bucket in [fromMs, toMs). */
export function sliceSeries(points: readonly SeriesPoint[], fromMs: number, toMs: number): SeriesPoint[] {
  const first = lowerBound(points, fromMs);
  return points.slice(first, lowerBound(points, toMs, first));
}

function lowerBound(points: readonly SeriesPoint[], ms: number, start = 0): number {
  let lo = start;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.bucket.getTime() < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const copyPoints = (points: readonly SeriesPoint[]): SeriesPoint[] => points.map((point) => ({ ...point }));

export function replayPlan(config: Config, plan: ProfilePlan, series: PlanSeries, window: ReplayWindow): CheckReplay[] {
  const own = copyPlanSeries(series);
  const flaggable = flaggablePoints(plan, own);
  const replays = new Map<string, CheckReplay>();
  if (plan.volume) replays.set(checkId('volume', plan.asset), { check: checkId('volume', plan.asset), kind: 'volume', asset: plan.asset, buckets: 0, alerts: [] });
  for (const { column } of plan.distribution) {
    const check = checkId('distribution', plan.asset, column);
    replays.set(check, { check, kind: 'distribution', asset: plan.asset, column, buckets: 0, alerts: [] });
  }
  const { bucketMs } = plan;
  for (let bucket = Math.ceil(window.fromMs / bucketMs) * bucketMs; bucket + bucketMs <= window.toMs; bucket += bucketMs) {
    const nowMs = bucket + bucketMs;
    const oldest = Math.ceil((nowMs - window.historyMs) / bucketMs) * bucketMs;
    const findings = evaluatePlan(config, plan, slicePlanSeries(own, oldest, nowMs), new Date(nowMs));
    const iso = new Date(bucket).toISOString();
    for (const finding of findings) {
      const replay = replays.get(finding.check);
      const points = flaggable.get(finding.check)?.get(bucket);
      // A column with no rows in this bucket has nothing measured there: its finding is about an older bucket.
      if (replay === undefined || points === undefined || (finding.bucket ?? iso) !== iso) continue;
      replay.buckets += 1;
      if (!isAlert(finding)) continue;
      for (const point of points) point.excluded = true;
      replay.alerts.push({ ...finding, bucket: iso });
    }
  }
  return [...replays.values()];
}

function copyPlanSeries(series: PlanSeries): PlanSeries {
  const columns = new Map([...series.columns].map(([column, metrics]) => [column, new Map([...metrics].map(([metric, points]) => [metric, copyPoints(points)]))]));
  return series.rows === undefined ? { columns } : { rows: copyPoints(series.rows), columns };
}

function slicePlanSeries(series: PlanSeries, fromMs: number, toMs: number): PlanSeries {
  const columns = new Map([...series.columns].map(([column, metrics]) => [column, new Map([...metrics].map(([metric, points]) => [metric, sliceSeries(points, fromMs, toMs)]))]));
  return series.rows === undefined ? { columns } : { rows: sliceSeries(series.rows, fromMs, toMs), columns };
}

/** Per check, per bucket: the points a flag on that check's bucket takes out (every metric of a column). */
function flaggablePoints(plan: ProfilePlan, series: PlanSeries): Map<string, Map<number, SeriesPoint[]>> {
  const byCheck = new Map<string, Map<number, SeriesPoint[]>>();
  const add = (check: string, points: readonly SeriesPoint[]) => {
    let byBucket = byCheck.get(check);
    if (byBucket === undefined) byCheck.set(check, (byBucket = new Map()));
    for (const point of points) {
      const ms = point.bucket.getTime();
      const list = byBucket.get(ms);
      if (list === undefined) byBucket.set(ms, [point]);
      else list.push(point);
    }
  };
  if (plan.volume && series.rows) add(checkId('volume', plan.asset), series.rows);
  for (const { column } of plan.distribution) {
    for (const points of series.columns.get(column)?.values() ?? []) add(checkId('distribution', plan.asset, column), points);
  }
  return byCheck;
}

/**
 * A size check (volume without a column) over its bucketed catalog estimates: each complete
 * bucket of the window that holds an estimate is scored against the estimates before it.
 */
export function replaySizeVolume(config: Config, check: SizeCheck, series: readonly SeriesPoint[], window: ReplayWindow): CheckReplay {
  const own = copyPoints(series);
  const bucketMs = check.volume.bucket;
  const replay: CheckReplay = { check: checkId('volume', check.asset), kind: 'volume', asset: check.asset, buckets: 0, alerts: [] };
  for (const point of own) {
    const bucket = point.bucket.getTime();
    if (bucket < window.fromMs || bucket + bucketMs > window.toMs) continue;
    const finding = sizeFinding(config, check, sliceSeries(own, bucket + bucketMs - window.historyMs, bucket + bucketMs));
    replay.buckets += 1;
    if (!isAlert(finding)) continue;
    point.excluded = true;
    replay.alerts.push({ ...finding, bucket: point.bucket.toISOString() });
  }
  return replay;
}
