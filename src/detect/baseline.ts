// The shared seasonal, robust baseline every metric detector scores against.
//
// Decision rules (kept here, in one place, so docs and tests can point at them):
// - Comparable points: same seasonal slot as the bucket under test, not marked `excluded`, and
//   never the bucket under test itself (a broken point must not vouch for itself). At least 3.
//   With `auto`, a slot too thin for the chosen grouping falls back to the coarser one
//   (hour_of_week → hour_of_day/day_of_week → none); an explicit grouping just keeps learning.
// - Centre: median. Spread: MAD × 1.4826, inflated by 1 + 1/(n − 1) for small samples (3 points
//   give a MAD that is mostly luck), floored at 5 % of |centre| and at `minSpread`.
// - Band: centre ± k·spread, k = 5 (low), 4 (medium), 3 (high) robust sigmas, then widened to at
//   least `minAbsoluteChange` and `minRelativeChange`·|centre| so tiny tables don't page.
// - Status: outside the band, in a counted direction → fail; in the outer fifth of the band
//   (beyond 80 % of its half-width) → warn; otherwise ok. Deviations in a direction the check
//   ignores are ok. Score: signed robust z = (value − centre) / spread.

import { medianInPlace, MAD_SCALE } from './robust-stats.ts';
import { chooseSeasonality, coarserSeasonality, MIN_POINTS_PER_GROUP, seasonalKey } from './seasonality.ts';
import type { BaselineSettings, Expectation, Seasonality, Sensitivity, SeriesPoint } from './series.ts';

export const BAND_SIGMAS: Readonly<Record<Sensitivity, number>> = { low: 5, medium: 4, high: 3 };
/** Beyond this share of the band's half-width a deviation warns. */
export const WARN_FRACTION = 0.8;
/** Relative floor of the spread: a flat history still allows 5 % of wiggle per sigma. */
const RELATIVE_SPREAD_FLOOR = 0.05;
const EPSILON = 1e-9;

export type PointStatus = 'ok' | 'warn' | 'fail';

export interface PointScore {
  /** Undefined while the baseline is still learning (too few comparable points). */
  expectation: Expectation | undefined;
  /** Signed robust z; 0 while learning. */
  score: number;
  status: PointStatus;
  /** Which way the value moved, when it is not ok. */
  direction?: 'drop' | 'spike';
  /** Comparable points found (for "learning: 1 of 3" messages). */
  comparable: number;
}

/** A baseline built once from a history and asked about many buckets (scoring is O(1) per point). */
export interface Baseline {
  /** The grouping in use (the resolved one when the setting was `auto`). */
  seasonality: Seasonality;
  expectationFor(bucket: Date): Expectation | undefined;
  score(point: SeriesPoint): PointScore;
  /** How many comparable points a bucket has (for learning messages). */
  comparableCount(bucket: Date): number;
}

interface Group {
  values: number[];
  /** The expectation when no point of the group is left out: computed once, shared (read-only). */
  expectation?: Expectation;
}

let scratch = new Float64Array(256);

function groupStats(values: readonly number[], leaveOut: number | undefined): { center: number; mad: number; zeros: number; n: number } {
  if (scratch.length < values.length) scratch = new Float64Array(values.length * 2);
  let n = 0;
  let skipped = leaveOut === undefined;
  let zeros = 0;
  for (const value of values) {
    if (!skipped && value === leaveOut) {
      skipped = true;
      continue;
    }
    scratch[n++] = value;
    if (value === 0) zeros++;
  }
  const center = medianInPlace(scratch, n);
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(scratch[i]! - center);
  return { center, mad: medianInPlace(scratch, n) * MAD_SCALE, zeros, n };
}

/** Band and spread from the comparable points' statistics, per the rules at the top. */
export function expectationFromStats(
  stats: { center: number; mad: number; zeros: number; n: number },
  seasonality: Seasonality,
  settings: BaselineSettings,
): Expectation {
  const { center, mad, zeros, n } = stats;
  const inflated = mad * (1 + 1 / Math.max(n - 1, 1));
  const spread = Math.max(inflated, RELATIVE_SPREAD_FLOOR * Math.abs(center), settings.minSpread ?? 0, EPSILON);
  const halfWidth = Math.max(BAND_SIGMAS[settings.sensitivity] * spread, settings.minAbsoluteChange, settings.minRelativeChange * Math.abs(center));
  return { low: center - halfWidth, high: center + halfWidth, center, seasonality, sampleSize: n, spread, zeroShare: n > 0 ? zeros / n : 0 };
}

/** ok / warn / fail of a value against an expectation, honouring the check's direction. */
export function judge(value: number, expectation: Expectation, direction: BaselineSettings['direction']): PointScore {
  const comparable = expectation.sampleSize;
  const deviation = value - expectation.center;
  const score = deviation / expectation.spread;
  const moved = deviation < 0 ? 'drop' : 'spike';
  const counted = deviation !== 0 && (direction === 'both' || direction === moved);
  if (!counted) return { expectation, score, status: 'ok', comparable };
  const halfWidth = (expectation.high - expectation.low) / 2;
  const ratio = Math.abs(deviation) / halfWidth;
  if (ratio > 1) return { expectation, score, status: 'fail', direction: moved, comparable };
  if (ratio > WARN_FRACTION) return { expectation, score, status: 'warn', direction: moved, comparable };
  return { expectation, score, status: 'ok', comparable };
}

export function buildBaseline(history: readonly SeriesPoint[], settings: BaselineSettings): Baseline {
  const included = history.filter((point) => !point.excluded && Number.isFinite(point.value));
  const valueAt = new Map<number, number>();
  for (const point of included) valueAt.set(point.bucket.getTime(), point.value);
  const resolved = settings.seasonality === 'auto' ? chooseSeasonality(included, settings.bucketMs, settings.timezone) : settings.seasonality;
  const groupings = new Map<Seasonality, Map<number, Group>>();

  const groupsOf = (seasonality: Seasonality): Map<number, Group> => {
    let groups = groupings.get(seasonality);
    if (groups === undefined) {
      groups = new Map();
      for (const point of included) {
        const key = seasonalKey(point.bucket.getTime(), seasonality, settings.timezone, settings.bucketMs);
        const group = groups.get(key);
        if (group === undefined) groups.set(key, { values: [point.value] });
        else group.values.push(point.value);
      }
      groupings.set(seasonality, groups);
    }
    return groups;
  };

  // Walks from the resolved grouping to coarser ones (auto only) until a slot has enough points.
  const locate = (ms: number): { seasonality: Seasonality; group: Group | undefined; n: number } => {
    const leaveOut = valueAt.get(ms);
    let seasonality = resolved;
    for (;;) {
      const group = groupsOf(seasonality).get(seasonalKey(ms, seasonality, settings.timezone, settings.bucketMs));
      const n = (group?.values.length ?? 0) - (leaveOut === undefined || group === undefined ? 0 : 1);
      const coarser = settings.seasonality === 'auto' ? coarserSeasonality(seasonality, settings.bucketMs) : undefined;
      if (n >= MIN_POINTS_PER_GROUP || coarser === undefined) return { seasonality, group, n };
      seasonality = coarser;
    }
  };

  const expectationAt = (ms: number): Expectation | undefined => {
    const { seasonality, group, n } = locate(ms);
    if (group === undefined || n < MIN_POINTS_PER_GROUP) return undefined;
    const leaveOut = valueAt.get(ms);
    if (leaveOut !== undefined) return expectationFromStats(groupStats(group.values, leaveOut), seasonality, settings);
    group.expectation ??= expectationFromStats(groupStats(group.values, undefined), seasonality, settings);
    return group.expectation;
  };

  const comparableCount = (bucket: Date): number => Math.max(0, locate(bucket.getTime()).n);
  return {
    seasonality: resolved,
    expectationFor: (bucket) => expectationAt(bucket.getTime()),
    comparableCount,
    score: (point) => {
      const expectation = expectationAt(point.bucket.getTime());
      if (expectation === undefined) return { expectation, score: 0, status: 'ok', comparable: comparableCount(point.bucket) };
      return judge(point.value, expectation, settings.direction);
    },
  };
}

/** What the comparable past says about `bucket`; undefined while there is too little of it. */
export function expectationFor(history: readonly SeriesPoint[], bucket: Date, settings: BaselineSettings): Expectation | undefined {
  return buildBaseline(history, settings).expectationFor(bucket);
}

/** Scores one point against the history (the point itself, if present there, is left out). */
export function scorePoint(history: readonly SeriesPoint[], point: SeriesPoint, settings: BaselineSettings): PointScore {
  return buildBaseline(history, settings).score(point);
}
