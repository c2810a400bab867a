import { describe, expect, it } from 'vitest';
import { averageShares, categoricalShift, judgeShift, OTHER_VALUE } from '../../src/detect/categorical-shift.ts';
import { baselineSettingsFromDistribution, describeMetric, evaluateDistribution, evaluateDistributionMetric, isJudgedMeasure } from '../../src/detect/distribution.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { DAY, SUNDAY, makeSeries, seededRandom } from './series-fixtures.ts';

const ASSET = 'marketplace.analytics.top_items_not_carried';
const settings = baselineSettingsFromDistribution({ column: 'refreshed_at', bucket: DAY, columns: ['price'], sensitivity: 'medium', min_absolute_change: 0.02 });
const NOW = new Date(SUNDAY + 29 * DAY);

/** 28 days of a metric around `level`, then the bucket under test holding `value`. */
function metric(level: number, value: number, jitter = 0.005): SeriesPoint[] {
  const random = seededRandom(5);
  const history = Array.from({ length: 28 }, (_, i) => ({ bucket: new Date(SUNDAY + i * DAY), value: Math.max(0, level + jitter * (2 * random() - 1)) }));
  return [...history, { bucket: new Date(SUNDAY + 28 * DAY), value }];
}

describe('evaluateDistributionMetric', () => {
  it.each([
    ['null fraction jumping to 100 %', 'null_fraction', metric(0.005, 1), 'fail'],
    ['null fraction staying near 0.5 %', 'null_fraction', metric(0.005, 0.007), 'ok'],
    ['null fraction of 2 % where 0 is usual (inside min_absolute_change)', 'null_fraction', metric(0, 0.015, 0), 'ok'],
    ['mean halving', 'mean', metric(50, 25, 2), 'fail'],
    ['mean within its noise', 'mean', metric(50, 51, 2), 'ok'],
  ])('%s → %s', (_name, name, series, status) => {
    expect(evaluateDistributionMetric({ asset: ASSET, column: 'price', metric: name, series, settings, now: NOW }).status).toBe(status);
  });

  it('names the metric and speaks in percent for fractions', () => {
    const finding = evaluateDistributionMetric({ asset: ASSET, column: 'price', metric: 'null_fraction', series: metric(0.005, 1), settings, now: NOW });
    expect(finding).toMatchObject({ check: `distribution:${ASSET}:price`, kind: 'distribution', column: 'price', observed: 1, bucket: new Date(SUNDAY + 28 * DAY).toISOString() });
    expect(finding.message).toMatch(/^marketplace\.analytics\.top_items_not_carried: null fraction of price rose to 100 % from [\d.]+ %–[\d.]+ % expected$/);
    expect(finding.expected!.low).toBeGreaterThanOrEqual(0);
    expect(finding.expected!.high).toBeLessThanOrEqual(1);
  });

  it('is ok while learning', () => {
    const finding = evaluateDistributionMetric({ asset: ASSET, column: 'price', metric: 'mean', series: metric(50, 0).slice(-3), settings, now: NOW });
    expect(finding.status).toBe('ok');
    expect(finding.message).toContain('still learning');
  });
});

describe('describeMetric', () => {
  it.each([
    ['null_fraction', 'null fraction'],
    ['distinct_count', 'distinct count'],
    ['p95', '95th percentile'],
    ['quantile_0.95', '95th percentile'],
    ['quantile_0.5', 'median'],
    ['max', 'max'],
  ])('%s → %s', (name, words) => expect(describeMetric(name)).toBe(words));
});

describe('categoricalShift (Jensen–Shannon, log2)', () => {
  it.each([
    ['identical shares', { a: 50, b: 50 }, { a: 1, b: 1 }, 0, 0],
    ['nothing in common', { a: 10 }, { b: 10 }, 1, 1],
    ['50/50 → 70/30', { a: 70, b: 30 }, { a: 50, b: 50 }, 0.0290, 0.0315],
    ['a new value taking 40 % (outside the reference top-k)', { a: 30, b: 30, new: 40 }, { a: 50, b: 50 }, 0.2, 0.4],
  ])('%s', (_name, current, reference, low, high) => {
    const shift = categoricalShift(current, reference);
    expect(shift).toBeGreaterThanOrEqual(low);
    expect(shift).toBeLessThanOrEqual(high);
  });

  it('is symmetric and bounded', () => {
    const p = { a: 5, b: 1, c: 9 };
    const q = { a: 1, d: 7, [OTHER_VALUE]: 3 };
    expect(categoricalShift(p, q)).toBeCloseTo(categoricalShift(q, p), 12);
    expect(categoricalShift(p, q)).toBeLessThanOrEqual(1);
  });

  it('folds values outside the other side’s top-k into "other": rows listed as other match an unlisted value', () => {
    expect(categoricalShift({ a: 60, b: 40 }, { a: 60, [OTHER_VALUE]: 40 })).toBeCloseTo(0, 12);
  });

  it('averages bucket shares with every bucket weighing the same', () => {
    expect(averageShares([{ a: 1, b: 1 }, { a: 300 }])).toEqual({ a: 0.75, b: 0.25 });
  });
});

describe('judgeShift', () => {
  const usual = Array.from({ length: 14 }, (_, i) => ({ pending: 20 + (i % 3), shipped: 70 - (i % 2), cancelled: 10 }));

  it('fails a reshuffled top-k: the same values with their shares swapped', () => {
    const verdict = judgeShift({ pending: 70, shipped: 20, cancelled: 10 }, usual, 'medium')!;
    expect(verdict.status).toBe('fail');
    expect(verdict.shift).toBeGreaterThan(verdict.threshold);
  });

  it('passes a bucket like the usual ones', () => {
    expect(judgeShift({ pending: 21, shipped: 69, cancelled: 10 }, usual, 'medium')!.status).toBe('ok');
  });

  it('raises the threshold for a column whose buckets are jumpy anyway', () => {
    const jumpy = Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? { a: 80, b: 20 } : { a: 20, b: 80 }));
    const steady = Array.from({ length: 14 }, () => ({ a: 50, b: 50 }));
    expect(judgeShift({ a: 80, b: 20 }, jumpy, 'medium')!.status).toBe('ok');
    expect(judgeShift({ a: 80, b: 20 }, steady, 'medium')!.status).toBe('fail');
  });

  it('is undefined (learning) with fewer than 3 baseline buckets', () => {
    expect(judgeShift({ a: 1 }, [{ a: 1 }, { a: 1 }], 'medium')).toBeUndefined();
  });
});

describe('evaluateDistribution: one finding per column, the worst measure', () => {
  const normal = { null_fraction: metric(0.005, 0.006), mean: metric(50, 50.5, 2), distinct_count: makeSeries(SUNDAY, DAY, 29, () => 400) };

  it('reports the failing measure when one fails', () => {
    const finding = evaluateDistribution({ asset: ASSET, column: 'price', metrics: { ...normal, null_fraction: metric(0.005, 1) }, settings, now: NOW });
    expect(finding.status).toBe('fail');
    expect(finding.check).toBe(`distribution:${ASSET}:price`);
    expect(finding.message).toContain('null fraction of price rose to 100 %');
  });

  it('reports the worse of two failing measures', () => {
    const finding = evaluateDistribution({ asset: ASSET, column: 'price', metrics: { ...normal, mean: metric(50, 45, 2), null_fraction: metric(0.005, 1) }, settings, now: NOW });
    expect(finding.message).toContain('null fraction');
  });

  it('reports a top-k shift when the measures look fine', () => {
    const topK = { current: { a: 90, b: 10 }, baseline: Array.from({ length: 7 }, () => ({ a: 10, b: 90 })) };
    const finding = evaluateDistribution({ asset: ASSET, column: 'status', metrics: normal, topK, settings, now: NOW });
    expect(finding).toMatchObject({ status: 'fail', column: 'status', check: `distribution:${ASSET}:status` });
    expect(finding.message).toMatch(/top values of status shifted \(Jensen–Shannon 0\.\d+, expected at most 0\.05\)/);
  });

  it('sums up when all is well', () => {
    const finding = evaluateDistribution({ asset: ASSET, column: 'price', metrics: normal, settings, now: NOW });
    expect(finding.status).toBe('ok');
    // distinct_count is measured but not judged (see isJudgedMeasure): two measures are.
    expect(finding.message).toBe(`${ASSET}: price: 2 measures as expected`);
  });
});

describe('distribution: only shape measures are judged', () => {
  it.each([
    ['null_fraction', true],
    ['zero_fraction', true],
    ['mean', true],
    ['avg_length', true],
    ['quantile_0.5', true],
    ['p95', true],
    ['distinct_count', false],
    ['min', false],
    ['max', false],
    ['stddev', false],
  ])('%s → %s', (metric, judged) => expect(isJudgedMeasure(metric)).toBe(judged));

  const daily = (values: number[]): SeriesPoint[] => values.map((value, i) => ({ bucket: new Date(SUNDAY + i * DAY), value }));

  it('a distinct count that halves with the day’s rows does not alert: volume watches rows', () => {
    const distinct = daily([...Array.from({ length: 28 }, (_, i) => 1500 + (i % 5) * 40), 700]);
    const finding = evaluateDistribution({ asset: 'a.s.t', column: 'amount', metrics: { distinct_count: distinct, mean: daily(Array.from({ length: 29 }, (_, i) => 52 + (i % 3))) }, settings, now: NOW });
    expect(finding.status).toBe('ok');
  });
});
