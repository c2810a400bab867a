// Volume: rows per bucket against the seasonal, robust baseline (baseline.ts). One extra rule on
// top of the band: an empty bucket where the comparable past was (almost) never empty and held at
// least one row at its median fails, whatever the direction and minimum-change settings say —
// a feed that stopped is the one thing a volume check must never miss, however small the table.

import type { VolumeConfig } from '../config/schema.ts';
import { checkId, type Finding } from '../types.ts';
import { buildBaseline, type PointScore } from './baseline.ts';
import { describeBucket } from './describe-bucket.ts';
import { formatNumber, formatRange } from './format-number.ts';
import { describeSlot, MIN_POINTS_PER_GROUP } from './seasonality.ts';
import type { BaselineSettings, Expectation, SeriesPoint } from './series.ts';

/** An empty bucket is a failure unless more than this share of the comparable past was empty. */
export const USUALLY_EMPTY_SHARE = 0.1;

export type VolumeSettings = BaselineSettings;

export interface VolumeInput {
  asset: string;
  /** Rows per bucket, oldest first: complete buckets only, empty buckets as zeros. */
  series: readonly SeriesPoint[];
  settings: VolumeSettings;
  now: Date;
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
  const result = withEmptyBucketRule(point.value, buildBaseline(history, settings).score(point));
  const bucket = { bucket: point.bucket.toISOString() };
  const when = describeBucket(point.bucket, settings.bucketMs, settings.timezone);
  if (result.expectation === undefined) {
    const learning = `still learning its normal volume (${result.comparable} of ${MIN_POINTS_PER_GROUP} comparable buckets so far)`;
    return { ...base, status: 'ok', observed: point.value, ...bucket, message: `${asset}: ${rows(point.value)} ${when}; ${learning}` };
  }
  const expected = { low: Math.max(0, result.expectation.low), high: result.expectation.high };
  const slot = describeSlot(point.bucket, result.expectation.seasonality, settings.timezone, settings.bucketMs);
  const message = `${asset}: ${rows(point.value)} ${when}, expected ${formatRange(expected.low, expected.high, true)}${slot ? ` ${slot}` : ''}`;
  return { ...base, status: result.status, observed: point.value, expected, score: round(result.score), ...bucket, message };
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
