// The rules that keep volume and distribution quiet on ordinary noise: the fitted noise model
// (counts for rows, additive for measures), skewed bands for counts and shares, 2-point slots with
// a fitted model, thin-slot fallback only when the slot agrees, thin slots not vetoing a grouping,
// the 24-hour window of sub-daily volume.

import { describe, expect, it } from 'vitest';
import { buildBaseline, expectationFor, fitNoise } from '../../src/detect/baseline.ts';
import { evaluateDistributionMetric, baselineSettingsFromDistribution } from '../../src/detect/distribution.ts';
import { chooseSeasonality } from '../../src/detect/seasonality.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { dayWindow, evaluateVolume } from '../../src/detect/volume.ts';
import { DAY, HOUR, SUNDAY, seededRandom, settings } from './series-fixtures.ts';

/** Standard normal draws from a seeded uniform (Box–Muller). */
function normal(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Hourly counts around `level(ms)` with a relative sd of `relative` (plus Poisson-like √m). */
function counts(days: number, level: (ms: number) => number, relative: number, seed = 7): SeriesPoint[] {
  const z = normal(seededRandom(seed));
  return Array.from({ length: days * 24 }, (_, i) => {
    const ms = SUNDAY + i * HOUR;
    const m = level(ms);
    return { bucket: new Date(ms), value: Math.max(0, Math.round(m + z() * Math.sqrt(m + (relative * m) ** 2))) };
  });
}

const weekdayDay = (ms: number): number => (new Date(ms).getUTCDay() % 6 === 0 ? 30 : 100) * (new Date(ms).getUTCHours() < 6 ? 0.3 : 1);
const counted = settings({ bucketMs: HOUR, noise: 'counts' });

describe('fitNoise', () => {
  it.each([
    ['Poisson counts', 0, 0, 0.02],
    ['counts with 25 % multiplicative noise', 0.25, 0.03, 0.12],
  ])('%s → φ in range', (_name, relative, low, high) => {
    const history = counts(28, () => 200, relative);
    const groups = [history.map((point) => point.value)];
    const model = fitNoise(groups, 'counts');
    expect(model?.kind).toBe('counts');
    const phi = model?.kind === 'counts' ? model.phi : Number.NaN;
    expect(phi).toBeGreaterThanOrEqual(low);
    expect(phi).toBeLessThanOrEqual(high);
  });

  it('is undefined with too few errors to fit, and additive gives the scaled MAD', () => {
    expect(fitNoise([[1, 2, 3]], 'counts')).toBeUndefined();
    const model = fitNoise([Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 10 : 12))], 'additive');
    // Each 10 is predicted by the others' median 12 and each 12 by 10: errors of 2.
    expect(model?.kind === 'additive' ? model.scale : Number.NaN).toBeCloseTo(2 * 1.4826, 6);
  });
});

describe('count noise on an hour-of-week slot of 3 points', () => {
  // Three weeks: every hour-of-week slot holds 3 points; the table is noisy (25 % per hour).
  const history = counts(21, weekdayDay, 0.25);
  const monday10 = new Date(SUNDAY + 22 * DAY + 10 * HOUR);

  it.each([
    // value against ~100 rows/h, 25 % noise: the band follows the table's noise, not 3 points' luck.
    // An hour is judged 24 times a day, so its band holds a day's tail (4.7 σ, not 4): one hour at
    // three times normal only warns on a table this noisy (a spike that lasts shows in the
    // 24-hour window); four times pages.
    [135, 'ok'],
    [65, 'ok'],
    [300, 'warn'],
    [400, 'fail'],
    [5, 'fail'],
  ])('%d rows on a Monday 10:00 → %s', (value, status) => {
    expect(buildBaseline(history, counted).score({ bucket: monday10, value }).status).toBe(status);
  });

  it('is skewed like counts: more room above the centre than below', () => {
    const expectation = expectationFor(history, monday10, counted)!;
    expect(expectation.high - expectation.center).toBeGreaterThan(expectation.center - expectation.low);
  });

  it('without the noise model the same history gives a narrower band (the old false alarms)', () => {
    const plain = expectationFor(history, monday10, settings({ bucketMs: HOUR, seasonality: 'hour_of_week', minRelativeChange: 0 }))!;
    const fitted = expectationFor(history, monday10, { ...counted, seasonality: 'hour_of_week', minRelativeChange: 0 })!;
    expect(fitted.high - fitted.low).toBeGreaterThan(plain.high - plain.low);
  });
});

describe('thin slots', () => {
  // Daily rows: weekdays 1,000, weekends 300 (±3 %), 29 days from a Sunday: Sundays 0, 7, 14, 21, 28.
  const z = normal(seededRandom(3));
  const daily = Array.from({ length: 29 }, (_, i) => ({ bucket: new Date(SUNDAY + i * DAY), value: Math.round((i % 7 === 0 || i % 7 === 6 ? 300 : 1000) * (1 + 0.03 * z())) }));
  // Sundays 7 and 14 were incidents: scoring Sunday 28 leaves Sundays 0 and 21.
  const flagged = daily.map((point, i) => (i === 7 || i === 14 ? { ...point, excluded: true } : point));
  const sunday = new Date(SUNDAY + 28 * DAY);
  const loose = settings({ minAbsoluteChange: 0, minRelativeChange: 0 });

  it('a thin Sunday does not fall back to all days when its own points disagree with them', () => {
    const baseline = buildBaseline(flagged, { ...loose, seasonality: 'auto' });
    expect(baseline.seasonality).toBe('day_of_week');
    expect(baseline.expectationFor(sunday)).toBeUndefined();
  });

  it('two comparable points are enough when the spread comes from a fitted noise model', () => {
    expect(expectationFor(flagged, sunday, { ...loose, seasonality: 'day_of_week', noise: 'additive' })).toMatchObject({ seasonality: 'day_of_week', sampleSize: 2 });
    expect(expectationFor(flagged, sunday, { ...loose, seasonality: 'day_of_week' })).toBeUndefined();
  });

  it('a slot thinned by excluded points does not veto the weekly grouping', () => {
    const weeks = Array.from({ length: 28 }, (_, i) => ({ bucket: new Date(SUNDAY + i * DAY), value: (i % 7 === 0 ? 300 : 1000) + (i % 3) * 10 }));
    // Two of the four Mondays were incidents: Monday has 2 points left.
    const flagged = weeks.map((point, i) => (i === 1 || i === 8 ? { ...point, excluded: true } : point));
    expect(chooseSeasonality(flagged, DAY)).toBe('day_of_week');
  });
});

describe('dayWindow: sub-daily volume also judged as 24 hours', () => {
  // A daily batch at 02:00 of ~2,400 rows (±10 %), nothing in the other hours.
  const z = normal(seededRandom(11));
  const batch = (days: number, factor = (_day: number) => 1): SeriesPoint[] =>
    Array.from({ length: days * 24 }, (_, i) => ({
      bucket: new Date(SUNDAY + i * HOUR),
      value: i % 24 === 2 ? Math.round(2400 * (1 + 0.1 * z()) * factor(Math.floor(i / 24))) : 0,
    }));
  const evaluate = (series: SeriesPoint[], hours: number) =>
    evaluateVolume({ asset: 'a.s.t', series: series.slice(0, hours), settings: counted, now: new Date(SUNDAY + hours * HOUR) });

  it.each([
    ['a normal day', () => 1, 'ok'],
    ['the batch at 40 %', (day: number) => (day === 28 ? 0.4 : 1), 'fail'],
    ['the batch ×3.3', (day: number) => (day === 28 ? 3.3 : 1), 'fail'],
  ])('%s, scored at 12:00 (not the batch hour): expected status in the table', (_name, factor, status) => {
    const finding = evaluate(batch(30, factor), 28 * 24 + 12);
    expect(finding.status).toBe(status);
    if (status === 'fail') expect(finding.message).toMatch(/^a\.s\.t: [\d,]+ rows in the 24 hours to 12:00, expected [\d,]+–[\d,]+/);
  });

  it('compares windows ending at the same time of day, leaving out windows that ended in a flagged bucket', () => {
    const series = batch(10);
    const point = series[9 * 24 + 11]!;
    const flagged = series.map((p) => (p.bucket.getTime() === point.bucket.getTime() - 2 * DAY ? { ...p, excluded: true } : p));
    const window = dayWindow(flagged, point, counted)!;
    expect(window.point.bucket.toISOString()).toBe(new Date(point.bucket.getTime() - DAY + HOUR).toISOString());
    // Windows ending at 11:00 on days 1–8 (day 0's lacks its first hours), one of them excluded.
    expect(window.result.comparable).toBe(7);
  });

  it('does not apply to daily buckets', () => {
    const days = Array.from({ length: 30 }, (_, i) => ({ bucket: new Date(SUNDAY + i * DAY), value: 1000 }));
    expect(dayWindow(days, days.at(-1)!, settings({ bucketMs: DAY, noise: 'counts' }))).toBeUndefined();
  });
});

describe('distribution: share measures are skewed like counts', () => {
  const settingsOf = baselineSettingsFromDistribution({ column: 'loaded_at', bucket: DAY, columns: ['amount'], sensitivity: 'medium', min_absolute_change: 0.02 });
  const now = new Date(SUNDAY + 29 * DAY);
  const daily = (values: number[]): SeriesPoint[] => values.map((value, i) => ({ bucket: new Date(SUNDAY + i * DAY), value }));

  // A 2.7 % null fraction moving ±0.34 points (a spread of ~0.5 points): a symmetric band of
  // 4 spreads ends at 4.8 %, but nulls are counted rows (≈ 26 a day here), skewed upwards.
  const nulls = Array.from({ length: 28 }, (_, i) => [0.027, 0.0236, 0.0304][i % 3]!);
  it.each([
    ['4.9 %: a busy day of nulls, worth a look but no page', 0.049, 'warn'],
    ['20 %: a null-rate jump', 0.2, 'fail'],
    ['0 %: nulls stopped', 0, 'fail'],
  ])('null fraction %s (%s) → %s', (_name, value, status) => {
    expect(evaluateDistributionMetric({ asset: 'a.s.t', column: 'amount', metric: 'null_fraction', series: daily([...nulls, value]), settings: settingsOf, now }).status).toBe(status);
  });

  it('the same 4.9 % as a plain measure (no skew) would fail', () => {
    const series = daily([...nulls, 0.049]);
    expect(buildBaseline(series, settingsOf).score(series.at(-1)!).status).toBe('fail');
    expect(buildBaseline(series, { ...settingsOf, share: true }).score(series.at(-1)!).status).toBe('warn');
  });
});
