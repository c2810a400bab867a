// Volume: rows per bucket against the seasonal, robust baseline (baseline.ts), with count noise.
// Two extra rules on top of the band:
// - An empty bucket where the comparable past was (almost) never empty and held at least one row
//   at its median fails, whatever the direction and minimum-change settings say — a feed that
//   stopped is the one thing a volume check must never miss, however small the table.
// - Buckets shorter than a day are also judged as a day: the rows of the last 24 hours of
//   buckets against the same 24-hour windows of the past (the same baseline machinery on the
//   series of trailing sums). An hour is too noisy to see a drop to 60 % of normal, and a table
//   loaded in one daily batch shows its batch in one hour a day, which an hourly profile tick
//   may not be the one to score; a day of rows sees both. The worse of the two is reported.

import type { VolumeConfig } from '../config/schema.ts';
import { checkId, type Finding } from '../types.ts';
import { buildBaseline, type PointScore } from './baseline.ts';
import { describeBucket, formatLocalTime } from './describe-bucket.ts';
import { formatNumber, formatRange } from './format-number.ts';
import { DAY_MS, describeSlot, MIN_POINTS_PER_GROUP } from './seasonality.ts';
import type { BaselineSettings, Expectation, SeriesPoint } from './series.ts';
import { detrend, fitDailyGrowth } from './trend.ts';

/** An empty bucket is a failure unless more than this share of the comparable past was empty. */
export const USUALLY_EMPTY_SHARE = 0.1;

export type VolumeSettings = BaselineSettings;

/** A fitted growth under 0.1 %/day (3 % over a month) is left alone: noise, not a trend worth a word. */
const MIN_GROWTH = 0.001;

export interface VolumeInput {
  asset: string;
  /** Rows per bucket, oldest first: complete buckets only, empty buckets as zeros. */
  series: readonly SeriesPoint[];
  settings: VolumeSettings;
  now: Date;
  /**
   * The series is a size taken at each bucket (a rebuilt table's row count), not rows added in
   * it: summing 24 hours of it means nothing, so only the bucket itself is judged.
   */
  gauge?: boolean;
}

/** The baseline settings a `volume:` config block means; volume's spread is at least one row. */
export function baselineSettingsFromVolume(config: VolumeConfig, timezone?: string): BaselineSettings {
  return {
    bucketMs: config.bucket,
    sensitivity: config.sensitivity,
    direction: config.direction,
    minAbsoluteChange: config.min_absolute_change,
    minRelativeChange: config.min_relative_change,
    seasonality: config.seasonality,
    minSpread: 1,
    noise: 'counts',
    ...(timezone === undefined ? {} : { timezone }),
  };
}

/** The newest bucket that has ended by `now` (a still-filling bucket is never scored). */
export function newestCompletePoint(series: readonly SeriesPoint[], bucketMs: number, now: Date): SeriesPoint | undefined {
  for (let i = series.length - 1; i >= 0; i--) {
    const point = series[i]!;
    if (point.bucket.getTime() + bucketMs <= now.getTime()) return point;
  }
  return undefined;
}

export function evaluateVolume(input: VolumeInput): Finding {
  const { asset, settings } = input;
  const base = { check: checkId('volume', asset), kind: 'volume' as const, asset };
  const point = newestCompletePoint(input.series, settings.bucketMs, input.now);
  if (point === undefined) return { ...base, status: 'ok', observed: null, message: `${asset}: no complete bucket measured yet` };
  const history = input.series.filter((p) => p.bucket.getTime() + settings.bucketMs <= input.now.getTime());
  const windows = input.gauge === true ? undefined : dailyWindows(history, point, settings);
  const growth = chooseGrowth(windows ?? (settings.bucketMs === DAY_MS ? history : []), settings);
  const result = withEmptyBucketRule(point.value, buildBaseline(detrend(history, growth, point.bucket.getTime()), settings).score(point));
  const bucket = { bucket: point.bucket.toISOString() };
  const when = describeBucket(point.bucket, settings.bucketMs, settings.timezone);
  if (result.expectation === undefined) {
    const learning = `still learning its normal volume (${result.comparable} of ${MIN_POINTS_PER_GROUP} comparable buckets so far)`;
    return { ...base, status: 'ok', observed: point.value, ...bucket, message: `${asset}: ${rows(point.value)} ${when}; ${learning}` };
  }
  const day = windows === undefined ? undefined : judgeWindow(windows, settings, growth);
  const trend = growth === 0 ? '' : ` (trend ${formatGrowth(growth)})`;
  if (day !== undefined && RANK[day.result.status] > RANK[result.status]) {
    const end = formatLocalTime(new Date(point.bucket.getTime() + settings.bucketMs), settings.timezone);
    return { ...base, ...judged(asset, day.result, day.point, `in the 24 hours to ${end}`, DAY_MS, settings.timezone, trend), ...bucket };
  }
  return { ...base, ...judged(asset, result, point, when, settings.bucketMs, settings.timezone, trend), ...bucket };
}

/**
 * The fitted daily growth (trend.ts) when scaling the past by it predicts the daily values better
 * than leaving them as they are — the count noise left over is smaller — else 0. A step change or
 * a history too short or too broken to fit gives 0: the plain seasonal median, as before.
 */
export function chooseGrowth(days: readonly SeriesPoint[], settings: VolumeSettings): number {
  const growth = fitDailyGrowth(days);
  const last = days.at(-1);
  if (growth === undefined || Math.abs(growth) < MIN_GROWTH || last === undefined) return 0;
  const daily = { ...settings, bucketMs: DAY_MS, noise: 'counts' as const };
  const plain = buildBaseline(days, daily).fittedNoise();
  const scaled = buildBaseline(detrend(days, growth, last.bucket.getTime()), daily).fittedNoise();
  if (plain?.kind !== 'counts' || scaled?.kind !== 'counts') return 0;
  return scaled.phi < plain.phi ? growth : 0;
}

function formatGrowth(growth: number): string {
  const percent = (Math.exp(growth) - 1) * 100;
  return `${percent > 0 ? '+' : '−'}${Math.abs(percent).toFixed(1)} %/day`;
}

const RANK = { ok: 0, warn: 1, fail: 2 } as const;

/** A scored point (with an expectation) as a finding's status, values and message. */
function judged(asset: string, result: PointScore, point: SeriesPoint, when: string, bucketMs: number, timezone: string | undefined, trend = '') {
  const expectation = result.expectation!;
  const expected = { low: Math.max(0, expectation.low), high: expectation.high };
  const slot = describeSlot(point.bucket, expectation.seasonality, timezone, bucketMs);
  const message = `${asset}: ${rows(point.value)} ${when}, expected ${formatRange(expected.low, expected.high, true)}${slot ? ` ${slot}` : ''}${trend}`;
  return { status: result.status, observed: point.value, expected, score: round(result.score), message };
}

/**
 * The trailing 24 hours of rows up to `point` against the past's 24 hours ending at the same time
 * of day: a daily series (each window's bucket is its first hour, so its weekday is that of its
 * middle) on the same baseline with count noise, the past scaled by `growth` (log per day). A
 * window holding an excluded bucket is excluded; a window needs all its buckets. Undefined for
 * buckets of a day or more.
 */
export function dayWindow(history: readonly SeriesPoint[], point: SeriesPoint, settings: VolumeSettings, growth = 0): { point: SeriesPoint; result: PointScore } | undefined {
  const windows = dailyWindows(history, point, settings);
  return windows === undefined ? undefined : judgeWindow(windows, settings, growth);
}

/** The 24-hour windows ending at the same time of day as `point`, oldest first (see dayWindow); undefined for buckets of a day or more. */
export function dailyWindows(history: readonly SeriesPoint[], point: SeriesPoint, settings: VolumeSettings): SeriesPoint[] | undefined {
  const width = DAY_MS / settings.bucketMs;
  if (!Number.isInteger(width) || width < 2) return undefined;
  const at = new Map(history.map((p) => [p.bucket.getTime(), p]));
  const windows: SeriesPoint[] = [];
  const last = point.bucket.getTime();
  for (let end = last; ; end -= DAY_MS) {
    let value = 0;
    let complete = true;
    for (let k = 0; k < width && complete; k++) {
      const bucket = at.get(end - k * settings.bucketMs);
      if (bucket === undefined) complete = false;
      else value += bucket.value;
    }
    if (!complete) break;
    const excluded = end !== last && at.get(end)?.excluded === true;
    windows.unshift({ bucket: new Date(end - DAY_MS + settings.bucketMs), value, ...(excluded ? { excluded: true } : {}) });
  }
  return windows.length === 0 ? undefined : windows;
}

function judgeWindow(windows: readonly SeriesPoint[], settings: VolumeSettings, growth: number): { point: SeriesPoint; result: PointScore } | undefined {
  const current = windows.at(-1)!;
  const result = buildBaseline(detrend(windows, growth, current.bucket.getTime()), { ...settings, bucketMs: DAY_MS }).score(current);
  return result.expectation === undefined ? undefined : { point: current, result };
}

function withEmptyBucketRule(value: number, result: PointScore): PointScore {
  const expectation: Expectation | undefined = result.expectation;
  if (value !== 0 || expectation === undefined) return result;
  if (expectation.center < 1 || expectation.zeroShare > USUALLY_EMPTY_SHARE) return result;
  return { ...result, status: 'fail', direction: 'drop' };
}

function rows(count: number): string {
  if (count === 0) return 'no rows';
  return `${formatNumber(count)} ${count === 1 ? 'row' : 'rows'}`;
}

/** Scores are for people and JSON: two decimals are plenty. */
function round(score: number): number {
  return Math.round(score * 100) / 100;
}
