// Distribution: the profiled measures of a column that describe its *shape* (null and zero
// fractions, mean, quantiles, average length) scored against the same seasonal, robust baseline as
// volume, plus the categorical shift of its top-k values. One finding per column (check id
// `distribution:asset:column`) reporting the worst.
//
// Measured but not judged (still stored, for people and backtests): distinct count, min, max and
// standard deviation. A distinct count of a high-cardinality column grows with the bucket's rows,
// so it is a second, noisier volume check (it caused every distribution false alarm in the
// detection-quality benchmark); min and max are single extreme rows; the standard deviation of a
// bucket swings with a handful of outliers. A low-cardinality column's distinct values are
// judged through the top-k shift instead.

import type { DistributionConfig } from '../config/schema.ts';
import { checkId, type Finding, type FindingStatus } from '../types.ts';
import { BAND_SIGMAS, buildBaseline, type PointScore } from './baseline.ts';
import { judgeShift, type Frequencies, type ShiftVerdict } from './categorical-shift.ts';
import { formatNumber, formatPercent, formatRange } from './format-number.ts';
import type { BaselineSettings, SeriesPoint } from './series.ts';
import { newestCompletePoint } from './volume.ts';

export type DistributionSettings = BaselineSettings;

export interface DistributionInput {
  asset: string;
  column: string;
  /** Metric name (`null_fraction`, `mean`, …) → its series, oldest first, complete buckets only. */
  metrics: Readonly<Record<string, readonly SeriesPoint[]>>;
  /** Top-k value counts of the bucket under test and of past buckets (see categorical-shift.ts). */
  topK?: { current: Frequencies; baseline: readonly Frequencies[] };
  settings: DistributionSettings;
  now: Date;
}

export interface DistributionMetricInput {
  asset: string;
  column: string;
  metric: string;
  series: readonly SeriesPoint[];
  settings: DistributionSettings;
  now: Date;
}

/** Metric deviations count both ways; 10 % relative change on top of the configured absolute one. */
export function baselineSettingsFromDistribution(config: DistributionConfig, timezone?: string): BaselineSettings {
  return {
    bucketMs: config.bucket,
    sensitivity: config.sensitivity,
    direction: 'both',
    minAbsoluteChange: config.min_absolute_change,
    minRelativeChange: 0.1,
    seasonality: 'auto',
    noise: 'additive',
    // A flat metric (null fraction always 0) still gets a finite score.
    minSpread: config.min_absolute_change / BAND_SIGMAS[config.sensitivity],
    ...(timezone === undefined ? {} : { timezone }),
  };
}

const LABELS: Record<string, string> = {
  null_fraction: 'null fraction',
  zero_fraction: 'zero fraction',
  distinct_count: 'distinct count',
  avg_length: 'average length',
  stddev: 'standard deviation',
};

/** "null fraction", "95th percentile" (from `p95` or `quantile_0.95`), else the name in words. */
export function describeMetric(metric: string): string {
  const label = LABELS[metric];
  if (label !== undefined) return label;
  const quantile = /^(?:p|quantile_)(0?\.\d+|\d+)$/.exec(metric);
  if (quantile) {
    const percent = quantile[1]!.includes('.') ? Number(quantile[1]) * 100 : Number(quantile[1]);
    return percent === 50 ? 'median' : `${formatNumber(percent)}th percentile`;
  }
  return metric.replaceAll('_', ' ');
}

const isShare = (metric: string): boolean => metric.endsWith('_fraction');

const JUDGED_MEASURES = new Set(['null_fraction', 'zero_fraction', 'mean', 'avg_length']);

/** Whether a measure is scored by the distribution check: a robust shape measure or a quantile. */
export function isJudgedMeasure(metric: string): boolean {
  return JUDGED_MEASURES.has(metric) || /^(?:p|quantile_)(0?\.\d+|\d+)$/.test(metric);
}

/** One metric of one column, as a finding (its message names the metric). */
export function evaluateDistributionMetric(input: DistributionMetricInput): Finding {
  const { asset, column, metric, settings } = input;
  const base = { check: checkId('distribution', asset, column), kind: 'distribution' as const, asset, column };
  const point = newestCompletePoint(input.series, settings.bucketMs, input.now);
  const label = `${describeMetric(metric)} of ${column}`;
  if (point === undefined) return { ...base, status: 'ok', observed: null, message: `${asset}: ${label}: no complete bucket measured yet` };
  const history = input.series.filter((p) => p.bucket.getTime() + settings.bucketMs <= input.now.getTime());
  const result = buildBaseline(history, isShare(metric) ? { ...settings, share: true } : settings).score(point);
  return { ...base, ...metricFinding(asset, label, metric, point, result) };
}

function metricFinding(asset: string, label: string, metric: string, point: SeriesPoint, result: PointScore) {
  const format = isShare(metric) ? formatPercent : formatNumber;
  const bucket = point.bucket.toISOString();
  const expectation = result.expectation;
  if (expectation === undefined) {
    const message = `${asset}: ${label} is ${format(point.value)}; still learning what is normal (${result.comparable} of 3 comparable buckets so far)`;
    return { status: 'ok' as const, observed: point.value, bucket, message };
  }
  const expected = isShare(metric)
    ? { low: Math.max(0, expectation.low), high: Math.min(1, expectation.high) }
    : { low: expectation.low, high: expectation.high };
  const range = formatRange(expected.low, expected.high, false, format);
  const moved = point.value < expectation.center ? 'fell' : 'rose';
  const message =
    result.status === 'ok'
      ? `${asset}: ${label} is ${format(point.value)}, within the expected ${range}`
      : `${asset}: ${label} ${moved} to ${format(point.value)} from ${range} expected`;
  return { status: result.status as FindingStatus, observed: point.value, expected, score: Math.round(result.score * 100) / 100, bucket, message };
}

const RANK: Record<FindingStatus, number> = { ok: 0, warn: 1, fail: 2, error: 3 };

/** How far out a finding is, for picking the worst: status first, then |score| relative to the band. */
function severity(finding: Finding): number {
  const { expected, observed } = finding;
  if (expected?.low == null || expected.high == null || observed === null) return RANK[finding.status];
  const half = (expected.high - expected.low) / 2 || 1;
  return RANK[finding.status] * 1e6 + Math.min(Math.abs(observed - (expected.low + half)) / half, 1e5);
}

/** Every judged measure of a column plus its top-k shift, reported as one finding: the worst of them. */
export function evaluateDistribution(input: DistributionInput): Finding {
  const { asset, column, settings, now } = input;
  const judged = Object.entries(input.metrics).filter(([metric]) => isJudgedMeasure(metric));
  const findings = judged.map(([metric, series]) =>
    evaluateDistributionMetric({ asset, column, metric, series, settings, now }),
  );
  const verdict = input.topK && judgeShift(input.topK.current, input.topK.baseline, settings.sensitivity);
  if (verdict) findings.push(shiftFinding(asset, column, verdict));
  if (findings.length === 0) {
    return { check: checkId('distribution', asset, column), kind: 'distribution', asset, column, status: 'ok', observed: null, message: `${asset}: ${column}: nothing measured yet` };
  }
  const worst = findings.reduce((a, b) => (severity(b) > severity(a) ? b : a));
  if (worst.status !== 'ok' || findings.length === 1) return worst;
  const learning = findings.filter((finding) => finding.expected === undefined).length;
  const still = learning > 0 ? `; still learning ${learning} of them` : '';
  return { ...worst, message: `${asset}: ${column}: ${findings.length} measures as expected${still}` };
}

function shiftFinding(asset: string, column: string, verdict: ShiftVerdict): Finding {
  const shift = formatNumber(Math.round(verdict.shift * 1000) / 1000);
  const limit = formatNumber(Math.round(verdict.threshold * 1000) / 1000);
  const message =
    verdict.status === 'ok'
      ? `${asset}: top values of ${column} as usual (Jensen–Shannon ${shift}, alert above ${limit})`
      : `${asset}: top values of ${column} shifted (Jensen–Shannon ${shift}, expected at most ${limit})`;
  return {
    check: checkId('distribution', asset, column),
    kind: 'distribution',
    asset,
    column,
    status: verdict.status,
    observed: verdict.shift,
    expected: { low: 0, high: verdict.threshold },
    score: verdict.shift,
    message,
  };
}
