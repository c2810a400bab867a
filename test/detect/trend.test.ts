// The trend of volume (trend.ts, chooseGrowth in volume.ts): fitted from days a whole number of
// weeks apart, robust to a broken day or two, kept only when it predicts the history better.

import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { detrend, fitDailyGrowth } from '../../src/detect/trend.ts';
import { chooseGrowth } from '../../src/detect/volume.ts';
import { DAY, SUNDAY, seededRandom, settings } from './series-fixtures.ts';

/** Daily rows from a Sunday: weekdays 1,000, Sundays 300, × (1 + growth)^day, ± `noise` (uniform share). */
function days(count: number, growth: number, noise = 0.05, factor: (day: number) => number = () => 1, seed = 5): SeriesPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, day) => ({
    bucket: new Date(SUNDAY + day * DAY),
    value: Math.round((day % 7 === 0 ? 300 : 1000) * (1 + growth) ** day * (1 + noise * (2 * random() - 1)) * factor(day)),
  }));
}

const counted = settings({ bucketMs: DAY, noise: 'counts', minAbsoluteChange: 0, minRelativeChange: 0 });

describe('fitDailyGrowth', () => {
  it.each([
    ['a flat table with quiet Sundays (the weekly pattern is not a trend)', days(28, 0), 0, 0.002],
    ['a table growing 1 %/day', days(28, 0.01), Math.log(1.01), 0.002],
    ['a table shrinking 0.4 %/day', days(28, -0.004), Math.log(0.996), 0.002],
    ['growing 1 %/day with a two-day drop to 40 % in the last week', days(28, 0.01, 0.05, (day) => (day === 24 || day === 25 ? 0.4 : 1)), Math.log(1.01), 0.003],
    ['growing 1 %/day with the first week at half (an old incident)', days(28, 0.01, 0.05, (day) => (day < 3 ? 0.5 : 1)), Math.log(1.01), 0.003],
  ])('%s', (_name, series, expected, tolerance) => {
    const growth = fitDailyGrowth(series);
    expect(growth).toBeDefined();
    expect(Math.abs(growth! - expected)).toBeLessThanOrEqual(tolerance);
  });

  it('is undefined before there are enough days a whole number of weeks apart', () => {
    expect(fitDailyGrowth(days(10, 0.01))).toBeUndefined();
    expect(fitDailyGrowth(days(21, 0.01))).toBeDefined();
  });

  it('leaves empty days out: a feed stopped for four days says nothing about growth', () => {
    const stopped = days(28, 0.01).map((point, day) => (day >= 21 && day <= 24 ? { ...point, value: 0 } : point));
    expect(Math.abs(fitDailyGrowth(stopped)! - Math.log(1.01))).toBeLessThanOrEqual(0.002);
  });
});

describe('detrend', () => {
  it('scales each point to the level at the given instant and leaves that point alone', () => {
    const points = [{ bucket: new Date(SUNDAY), value: 100 }, { bucket: new Date(SUNDAY + 7 * DAY), value: 100 }];
    const scaled = detrend(points, Math.log(1.01), SUNDAY + 7 * DAY);
    expect(scaled[0]!.value).toBeCloseTo(100 * 1.01 ** 7, 6);
    expect(scaled[1]!.value).toBe(100);
  });
});

describe('chooseGrowth: a trend is used only when it predicts the history better', () => {
  it.each([
    ['a table growing 1 %/day', 'trend', days(28, 0.01)],
    ['a flat table', 'none', days(28, 0)],
    // A median of pairs: one odd week (a holiday at half the rows) is outvoted, not a trend.
    ['a flat table with one week at half', 'none', days(28, 0, 0.05, (day) => (day >= 7 && day < 14 ? 0.5 : 1))],
    ['a table growing 1 %/day with one week at half', 'trend', days(28, 0.01, 0.05, (day) => (day >= 7 && day < 14 ? 0.5 : 1))],
    ['too short a history to fit', 'none', days(12, 0.01)],
  ])('%s → %s', (_name, expected, series: SeriesPoint[]) => {
    const growth = chooseGrowth(series, counted);
    expect(growth === 0 ? 'none' : 'trend').toBe(expected);
  });
});
