// The shared seasonal, robust baseline every metric detector scores against.
//
// Decision rules (kept here, in one place, so docs and tests can point at them):
// - Comparable points: same seasonal slot as the bucket under test, not marked `excluded`, and
//   never the bucket under test itself (a broken point must not vouch for itself). At least 3.
//   With `auto`, a slot too thin for the chosen grouping falls back to the coarser one
//   (hour_of_week → hour_of_day/day_of_week → none) when the slot's own points lie inside the
//   coarser band (otherwise the slot is unlike the rest and keeps learning); an explicit grouping
//   just keeps learning.
// - Centre: median. Spread: MAD × 1.4826, inflated by 1 + 1/(n − 1) for small samples (3 points
//   give a MAD that is mostly luck), floored at 5 % of |centre| and at `minSpread`.
// - Band: centre ± k·spread, k = 5 (low), 4 (medium), 3 (high) robust sigmas for one judgement a
//   day; buckets shorter than a day are judged many times a day and get the same tail per day
//   (perDaySigmas: 4 σ a day is 4.7 σ an hour). Then widened to at least `minAbsoluteChange` and
//   `minRelativeChange`·|centre| so tiny tables don't page.
// - Fitted noise (`noise` setting): a slot of hour-of-week or day-of-week has 3–4 points, whose
//   MAD is mostly luck, so the spread is also at least the series' own noise, fitted once per
//   grouping on every slot's leave-one-out prediction errors (hundreds instead of 3 points).
//   `additive` (distribution measures): their scaled MAD. `counts` (volume): variance m + φ·m²
//   (Poisson plus a multiplicative part, as for negative-binomial counts) at the expected level,
//   and the band is skewed like counts (see countQuantile). The slot then only gives the centre,
//   so 2 comparable points are enough, and its own MAD is not used. φ is fitted on a trimmed RMS
//   (the smallest 90 % of the errors: nearly as efficient as a standard deviation, deaf to a few
//   incidents) rather than their MAD, and with few errors (a daily series holds ~30) the band
//   widens to the Student-t quantile of that many errors: a noise read off 30 days is itself
//   uncertain by ±15 %, and a band at 4 of its sigmas was at 3.3 true sigmas on unlucky tables.
//   Too few slots of 3 (the first weeks): slots of 2, then the coarser grouping's noise.
// - Status: outside the band, in a counted direction → fail; in the outer fifth of the band
//   (beyond 80 % of its half-width) → warn; otherwise ok. Deviations in a direction the check
//   ignores are ok. Score: signed robust z = (value − centre) / spread.

import { median, medianInPlace, MAD_SCALE } from './robust-stats.ts';
import { perDaySigmas, sigmasForResiduals, trimmedScale } from './band-sigmas.ts';
import { chooseSeasonality, coarserSeasonality, medianWithout, MIN_POINTS_PER_GROUP, seasonalKey } from './seasonality.ts';
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
  /** The noise fitted on the resolved grouping's slots (undefined without the `noise` setting or with too few points). */
  fittedNoise(): NoiseModel | undefined;
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

/** Comparable points a slot needs when the spread comes from the fitted count noise. */
const MIN_POINTS_WITH_NOISE = 2;
/** Fewer leave-one-out errors than this and the count-noise fit is not trusted (slot spread only). */
const MIN_NOISE_RESIDUALS = 20;

/** The noise a grouping's slots show, fitted once on all their leave-one-out prediction errors. */
export type NoiseModel =
  /** `residuals`: how many prediction errors φ was fitted on (few → the band widens, see sigmasForResiduals). */
  | { kind: 'counts'; phi: number; residuals: number }
  | { kind: 'additive'; scale: number };

/** Each point's |value − median of the other points in its slot| and that median, for slots of ≥ `minimum` points. */
function leaveOneOutResiduals(groups: Iterable<readonly number[]>, minimum = MIN_POINTS_PER_GROUP): { errors: number[]; levels: number[] } {
  const errors: number[] = [];
  const levels: number[] = [];
  for (const values of groups) {
    if (values.length < minimum) continue;
    const sorted = Float64Array.from(values).sort();
    for (let i = 0; i < sorted.length; i++) {
      const predicted = medianWithout(sorted, i);
      errors.push(Math.abs(sorted[i]! - predicted));
      levels.push(predicted);
    }
  }
  return { errors, levels };
}

/**
 * The noise model of `kind` fitted on the slots' leave-one-out prediction errors; undefined with
 * too few errors to say. Additive: their scaled MAD. Counts: the φ of variance m + φ·m² at which
 * the errors, each divided by the model's sigma at its predicted level, have a scaled MAD of 1
 * (bisection; the MAD falls as φ grows), 0 when Poisson noise explains them; slots predicting
 * under one row say nothing about it and are skipped.
 */
export function fitNoise(groups: Iterable<readonly number[]>, kind: NoiseModel['kind']): NoiseModel | undefined {
  const slots = [...groups];
  const all = leaveOneOutResiduals(slots);
  if (kind === 'additive') {
    return all.errors.length < MIN_NOISE_RESIDUALS ? undefined : { kind, scale: median(all.errors) * MAD_SCALE };
  }
  const counted = (residuals: typeof all) => ({
    errors: residuals.errors.filter((_, i) => residuals.levels[i]! >= 1),
    levels: residuals.levels.filter((level) => level >= 1),
  });
  // In the first weeks slots of 3 are too few (a weekly grouping after three weeks): slots of 2
  // then predict each point by the other one, an error √2 σ wide rather than ~1.2 σ, so the fit
  // errs wide — still the table's own noise, where the alternative is no fit at all.
  const three = counted(all);
  const { errors, levels } = three.errors.length >= MIN_NOISE_RESIDUALS ? three : counted(leaveOneOutResiduals(slots, 2));
  if (errors.length < MIN_NOISE_RESIDUALS) return undefined;
  const standardized = new Float64Array(errors.length);
  const scaleAt = (phi: number): number => {
    for (let i = 0; i < errors.length; i++) standardized[i] = errors[i]! / Math.sqrt(levels[i]! + phi * levels[i]! * levels[i]!);
    return trimmedScale(standardized);
  };
  if (scaleAt(0) <= 1) return { kind, phi: 0, residuals: errors.length };
  let low = 0;
  let high = 1;
  while (scaleAt(high) > 1 && high < 1e6) high *= 4;
  for (let step = 0; step < 40; step++) {
    const mid = (low + high) / 2;
    if (scaleAt(mid) > 1) low = mid;
    else high = mid;
  }
  return { kind, phi: high, residuals: errors.length };
}


/** The count-noise sigma at a level (see fitCountNoise). */
export function countNoiseSpread(center: number, phi: number): number {
  const level = Math.max(center, 0);
  return Math.sqrt(level + phi * level * level);
}

/**
 * Where count noise puts a value `sigmas` standard deviations from `center`: counts are skewed (a
 * busy hour can be twice the usual, a quiet one never goes below zero), so the band is wider
 * above the centre than below it. The noise is taken as a gamma with the model's mean and
 * variance (shape α = m² / (m + φ·m²)) and its quantile from the Wilson–Hilferty cube-root
 * approximation: m · (1 − 1/(9α) + z / (3√α))³.
 */
function countQuantile(center: number, phi: number, sigmas: number): number {
  const shape = center / (1 + phi * center);
  const root = 1 - 1 / (9 * shape) + sigmas / (3 * Math.sqrt(shape));
  return root <= 0 ? 0 : center * root ** 3;
}

/** Band and spread from the comparable points' statistics, per the rules at the top. */
export function expectationFromStats(
  stats: { center: number; mad: number; zeros: number; n: number },
  seasonality: Seasonality,
  settings: BaselineSettings,
  noiseModel?: NoiseModel,
): Expectation {
  const phi = noiseModel?.kind === 'counts' ? noiseModel.phi : undefined;
  const { center, mad, zeros, n } = stats;
  const inflated = mad * (1 + 1 / Math.max(n - 1, 1));
  const noise = noiseModel === undefined ? 0 : noiseModel.kind === 'counts' ? countNoiseSpread(center, noiseModel.phi) : noiseModel.scale;
  // A count model fitted on every slot already says how noisy a count of this level is; the MAD
  // of a slot's 2–4 points is luck and only made bands erratic (a lucky pair: too narrow; one odd
  // week: a band from a fifth to four times the centre).
  const slotSpread = phi === undefined ? inflated : 0;
  const spread = Math.max(slotSpread, noise, RELATIVE_SPREAD_FLOOR * Math.abs(center), settings.minSpread ?? 0, EPSILON);
  const perDay = perDaySigmas(BAND_SIGMAS[settings.sensitivity], settings.bucketMs);
  const sigmas = noiseModel?.kind === 'counts' ? sigmasForResiduals(perDay, noiseModel.residuals) : perDay;
  const guard = Math.max(settings.minAbsoluteChange, settings.minRelativeChange * Math.abs(center));
  let below = sigmas * spread;
  let above = below;
  if (phi !== undefined && center >= 1) {
    // The same number of the model's sigmas, widened when the slot itself is noisier.
    const z = (sigmas * spread) / countNoiseSpread(center, phi);
    below = center - countQuantile(center, phi, -z);
    above = countQuantile(center, phi, z) - center;
  } else if (settings.share === true && center > 0 && center < 1) {
    // A share of rows is a count of the rarer outcome over the rows: skewed the same way. The
    // rows it is a share of are those that make binomial noise as large as the spread.
    const rows = (center * (1 - center)) / (spread * spread);
    const rare = Math.min(center, 1 - center);
    const [down, up] = [countQuantile(rare * rows, 0, -sigmas) / rows, countQuantile(rare * rows, 0, sigmas) / rows];
    [below, above] = rare === center ? [center - down, up - center] : [up - rare, rare - down];
  }
  below = Math.max(below, guard);
  above = Math.max(above, guard);
  return { low: center - below, high: center + above, center, seasonality, sampleSize: n, spread, zeroShare: n > 0 ? zeros / n : 0 };
}

/** ok / warn / fail of a value against an expectation, honouring the check's direction. */
export function judge(value: number, expectation: Expectation, direction: BaselineSettings['direction']): PointScore {
  const comparable = expectation.sampleSize;
  const deviation = value - expectation.center;
  const score = deviation / expectation.spread;
  const moved = deviation < 0 ? 'drop' : 'spike';
  const counted = deviation !== 0 && (direction === 'both' || direction === moved);
  if (!counted) return { expectation, score, status: 'ok', comparable };
  // Bands of count data are wider above the centre than below: each side is judged on its own.
  const halfWidth = deviation < 0 ? expectation.center - expectation.low : expectation.high - expectation.center;
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
  const noiseOf = new Map<Seasonality, NoiseModel | undefined>();
  const noiseIn = (seasonality: Seasonality): NoiseModel | undefined => {
    if (settings.noise === undefined) return undefined;
    if (!noiseOf.has(seasonality)) noiseOf.set(seasonality, fitNoise([...groupsOf(seasonality).values()].map((group) => group.values), settings.noise));
    return noiseOf.get(seasonality);
  };

  // Too few slots of ≥ 3 points to fit a grouping's noise (the first weeks of history): the
  // coarser grouping's noise stands in. It is larger (it holds the seasonal pattern it cannot
  // see), so the band errs wide, but the centre stays the slot's own: two quiet Sundays say more
  // about a third than the median of all days does.
  const borrowedNoise = (seasonality: Seasonality): NoiseModel | undefined => {
    const own = noiseIn(seasonality);
    const coarser = coarserSeasonality(seasonality, settings.bucketMs);
    return own ?? (coarser === undefined ? undefined : borrowedNoise(coarser));
  };

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

  const expectationIn = (ms: number, seasonality: Seasonality): Expectation | undefined => {
    const group = groupsOf(seasonality).get(seasonalKey(ms, seasonality, settings.timezone, settings.bucketMs));
    const leaveOut = valueAt.get(ms);
    const n = (group?.values.length ?? 0) - (leaveOut === undefined || group === undefined ? 0 : 1);
    // With the spread from the fitted count noise, a slot only gives the centre: 2 points do.
    const noise = borrowedNoise(seasonality);
    const enough = noise === undefined ? MIN_POINTS_PER_GROUP : MIN_POINTS_WITH_NOISE;
    if (group !== undefined && n >= enough) {
      const fromStats = (stats: ReturnType<typeof groupStats>): Expectation => expectationFromStats(stats, seasonality, settings, noise);
      if (leaveOut !== undefined) return fromStats(groupStats(group.values, leaveOut));
      group.expectation ??= fromStats(groupStats(group.values, undefined));
      return group.expectation;
    }
    const coarser = settings.seasonality === 'auto' ? coarserSeasonality(seasonality, settings.bucketMs) : undefined;
    const fallback = coarser === undefined ? undefined : expectationIn(ms, coarser);
    if (fallback === undefined || group === undefined) return fallback;
    // The thin slot's own points must agree with the coarser grouping: a third Sunday scored
    // against all days would make every quiet Sunday an incident.
    let skipped = leaveOut === undefined;
    for (const value of group.values) {
      if (!skipped && value === leaveOut) skipped = true;
      else if (value < fallback.low || value > fallback.high) return undefined;
    }
    return fallback;
  };
  const expectationAt = (ms: number): Expectation | undefined => expectationIn(ms, resolved);

  const comparableCount = (bucket: Date): number => Math.max(0, locate(bucket.getTime()).n);
  return {
    seasonality: resolved,
    expectationFor: (bucket) => expectationAt(bucket.getTime()),
    comparableCount,
    fittedNoise: () => noiseIn(resolved),
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
