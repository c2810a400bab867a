import { describe, expect, it } from 'vitest';
import { BAND_SIGMAS, buildBaseline, expectationFor, scorePoint } from '../../src/detect/baseline.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { DAY, HOUR, SUNDAY, makeSeries, settings } from './series-fixtures.ts';

/** 21 days of 1,000 ± 5 % rows: a flat daily table. */
const flat = makeSeries(SUNDAY, DAY, 21, () => 1000);
const next = (value: number, day = 21): SeriesPoint => ({ bucket: new Date(SUNDAY + day * DAY), value });
const loose = settings({ minAbsoluteChange: 0, minRelativeChange: 0, seasonality: 'none' });

describe('expectationFor', () => {
  it('centres on the median of comparable points, with a band of k robust sigmas per sensitivity', () => {
    for (const sensitivity of ['low', 'medium', 'high'] as const) {
      const expectation = expectationFor(flat, next(0).bucket, { ...loose, sensitivity })!;
      expect(expectation.center).toBeGreaterThan(970);
      expect(expectation.center).toBeLessThan(1030);
      expect((expectation.high - expectation.low) / 2).toBeCloseTo(BAND_SIGMAS[sensitivity] * expectation.spread, 6);
      expect(expectation.sampleSize).toBe(21);
    }
  });

  it('is undefined with fewer than 3 comparable points (still learning)', () => {
    expect(expectationFor(flat.slice(0, 2), next(0).bucket, loose)).toBeUndefined();
    expect(expectationFor(flat.slice(0, 3), next(0).bucket, loose)).toBeDefined();
    // 21 days give 3 Sundays but only 2 of them are not the Sunday under test.
    expect(expectationFor(flat, flat[14]!.bucket, { ...loose, seasonality: 'day_of_week' })).toBeUndefined();
    expect(expectationFor(flat, next(0).bucket, { ...loose, seasonality: 'day_of_week' })).toBeDefined();
  });

  it('leaves the point under test out of its own baseline', () => {
    const bucket = new Date(SUNDAY + 20 * DAY);
    const withoutIt = expectationFor(flat.slice(0, 20), bucket, loose)!;
    const brokenInHistory = [...flat.slice(0, 20), { bucket, value: 1_000_000 }];
    expect(expectationFor(brokenInHistory, bucket, loose)).toEqual(withoutIt);
  });

  it('leaves excluded points (earlier anomalies, findings marked expected) out: they do not widen the band', () => {
    const clean = flat.slice(0, 14);
    const incidents = flat.slice(14).map((point, i) => ({ ...point, value: i % 2 === 0 ? 0 : 5000, excluded: true }));
    expect(expectationFor([...clean, ...incidents], next(0).bucket, loose)).toEqual(expectationFor(clean, next(0).bucket, loose));
    const included = incidents.map(({ excluded: _, ...point }) => point);
    const polluted = expectationFor([...clean, ...included], next(0).bucket, loose)!;
    expect(polluted.high - polluted.low).toBeGreaterThan(expectationFor(clean, next(0).bucket, loose)!.high - expectationFor(clean, next(0).bucket, loose)!.low);
  });

  it('floors the spread of a perfectly flat history at 5 % of the centre and at minSpread', () => {
    const constant = makeSeries(SUNDAY, DAY, 10, () => 1000, 0);
    expect(expectationFor(constant, next(0).bucket, loose)!.spread).toBe(50);
    const tiny = makeSeries(SUNDAY, DAY, 10, () => 2, 0);
    expect(expectationFor(tiny, next(0).bucket, loose)!.spread).toBe(1);
  });

  it('widens the spread of small samples by 1 + 1/(n − 1): three points give a MAD that is mostly luck', () => {
    const three = [900, 1000, 1100].map((value, i) => ({ bucket: new Date(SUNDAY + i * DAY), value }));
    expect(expectationFor(three, next(0).bucket, loose)!.spread).toBeCloseTo(100 * 1.4826 * 1.5, 6);
  });

  it('falls back to a coarser grouping in auto mode when the slot under test is thin, and only in auto mode', () => {
    const weekly = (ms: number): number => (new Date(ms).getUTCHours() < 6 ? 10 : 100) * (new Date(ms).getUTCDay() === 0 ? 0.2 : 1);
    // Mondays 03:00 are days 1, 8, 15 and 22; the first was an incident (excluded). Scoring the
    // last one (in the history, so left out of its own baseline) leaves 2 comparable points.
    const incident = SUNDAY + 1 * DAY + 3 * HOUR;
    const monday3am = SUNDAY + 22 * DAY + 3 * HOUR;
    const history = makeSeries(SUNDAY, HOUR, 28 * 24, weekly).map((point) => (point.bucket.getTime() === incident ? { ...point, excluded: true } : point));
    const auto = buildBaseline(history, settings({ bucketMs: HOUR }));
    expect(auto.seasonality).toBe('hour_of_week');
    expect(auto.expectationFor(new Date(monday3am))!.seasonality).toBe('hour_of_day');
    expect(auto.expectationFor(new Date(monday3am + HOUR))!.seasonality).toBe('hour_of_week');
    expect(expectationFor(history, new Date(monday3am), settings({ bucketMs: HOUR, seasonality: 'hour_of_week' }))).toBeUndefined();
  });

  it('with 22 days of a night dip, auto groups by hour of day and expects night rows at night', () => {
    // 22 days of hourly data with a night dip: hour_of_week has 3 points only for some slots.
    const hourly = makeSeries(SUNDAY, HOUR, 22 * 24, (ms) => (new Date(ms).getUTCHours() < 6 ? 10 : 100));
    const auto = buildBaseline(hourly, settings({ bucketMs: HOUR }));
    expect(auto.seasonality).toBe('hour_of_day');
    const expectation = auto.expectationFor(new Date(SUNDAY + 22 * DAY + 3 * HOUR))!;
    expect(expectation.center).toBeLessThan(12);
  });
});

describe('scorePoint', () => {
  it.each([
    // value, min absolute, min relative, status
    [1000, 0, 0, 'ok'],
    [700, 0, 0, 'fail'],
    [1300, 0, 0, 'fail'],
    [700, 400, 0, 'ok'],
    [700, 0, 0.5, 'ok'],
    [400, 0, 0.5, 'fail'],
  ])('%d rows against ~1,000 with min absolute %d and min relative %d → %s', (value, minAbsoluteChange, minRelativeChange, status) => {
    expect(scorePoint(flat, next(value), { ...loose, minAbsoluteChange, minRelativeChange }).status).toBe(status);
  });

  it.each([
    ['both', 500, 'fail', 'drop'],
    ['both', 2000, 'fail', 'spike'],
    ['drop', 500, 'fail', 'drop'],
    ['drop', 2000, 'ok', undefined],
    ['spike', 500, 'ok', undefined],
    ['spike', 2000, 'fail', 'spike'],
  ] as const)('direction %s: %d rows → %s %s', (direction, value, status, moved) => {
    const result = scorePoint(flat, next(value), { ...loose, direction });
    expect(result.status).toBe(status);
    expect(result.direction).toBe(moved);
  });

  it('warns in the outer fifth of the band, fails outside it, with a signed robust z as score', () => {
    const expectation = expectationFor(flat, next(0).bucket, loose)!;
    const half = (expectation.high - expectation.low) / 2;
    const at = (share: number): SeriesPoint => next(expectation.center - share * half);
    expect(scorePoint(flat, at(0.79), loose).status).toBe('ok');
    expect(scorePoint(flat, at(0.85), loose).status).toBe('warn');
    expect(scorePoint(flat, at(1), loose).status).toBe('warn');
    expect(scorePoint(flat, at(1.01), loose).status).toBe('fail');
    expect(scorePoint(flat, at(1.01), loose).score).toBeCloseTo(-1.01 * BAND_SIGMAS.medium, 6);
  });

  it('reports learning as ok with the comparable count', () => {
    expect(scorePoint(flat.slice(0, 2), next(0), loose)).toEqual({ expectation: undefined, score: 0, status: 'ok', comparable: 2 });
  });

  it('scores many points against one baseline the same as one at a time', () => {
    const baseline = buildBaseline(flat, loose);
    for (const value of [0, 500, 990, 1500]) expect(baseline.score(next(value))).toEqual(scorePoint(flat, next(value), loose));
  });
});
