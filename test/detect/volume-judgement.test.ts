// Volume judged on trending, overdispersed tables: the past scaled by the table's growth, a band
// that holds the day-to-day noise fitted on few days (trimmed scale, Student-t widening), the
// per-day tail for hourly buckets, thin weekday slots centred on their own points, and no band
// blown up by a 3-point slot's MAD.

import { describe, expect, it } from 'vitest';
import { perDaySigmas, sigmasForResiduals, trimmedScale } from '../../src/detect/band-sigmas.ts';
import { expectationFor } from '../../src/detect/baseline.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { evaluateVolume } from '../../src/detect/volume.ts';
import { DAY, HOUR, SUNDAY, seededRandom, settings } from './series-fixtures.ts';

/** Standard normal draws from a seeded uniform (Box–Muller). */
function normal(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

interface TableShape {
  rate: number;
  /** Weekend days at this share of a weekday. */
  weekend: number;
  /** Growth per day (0.01 = 1 %/day). */
  growth: number;
  /** Log-normal sigma of the whole-day multiplier (busy and quiet days). */
  daySigma: number;
}

/**
 * Hourly rows from a Sunday: rate × weekend × (1 + growth)^day × a night dip (30 % before 06:00)
 * × a day multiplier, with count noise of variance m + m²/40; `factor(ms)` scales an hour
 * (an incident).
 */
function hourly(days: number, shape: TableShape, seed: number, factor: (ms: number) => number = () => 1): SeriesPoint[] {
  const z = normal(seededRandom(seed));
  const points: SeriesPoint[] = [];
  let day = 1;
  for (let i = 0; i < days * 24; i++) {
    const ms = SUNDAY + i * HOUR;
    const date = new Date(ms);
    if (date.getUTCHours() === 0) day = Math.exp(shape.daySigma * z());
    const weekly = date.getUTCDay() % 6 === 0 ? shape.weekend : 1;
    const m = shape.rate * weekly * (1 + shape.growth) ** (i / 24) * (date.getUTCHours() < 6 ? 0.3 : 1) * day * factor(ms);
    points.push({ bucket: new Date(ms), value: Math.max(0, Math.round(m + z() * Math.sqrt(m + (m * m) / 40))) });
  }
  return points;
}

const volume = settings({ bucketMs: HOUR, noise: 'counts' });
const evaluateAt = (series: SeriesPoint[], nowMs: number) =>
  evaluateVolume({ asset: 'a.s.t', series: series.filter((p) => p.bucket.getTime() < nowMs), settings: volume, now: new Date(nowMs) });

describe('a table growing 1 %/day with quiet weekends', () => {
  const shape = { rate: 100, weekend: 0.4, growth: 0.01, daySigma: 0.04 };
  // 28 days of history, then the day under test: day 28 is a Sunday, day 30 a Tuesday. The day's
  // rows are scaled by `factor`; it is judged at the day's end, as a whole day of rows.
  it.each([
    ['an ordinary Sunday: quiet, as Sundays are', 28, 1, 'ok'],
    ['an ordinary Tuesday: the growth, not an incident', 30, 1, 'ok'],
    ['a Tuesday as quiet as a Sunday', 30, 0.4, 'fail'],
    ['a Tuesday at 65 % of its level', 30, 0.65, 'fail'],
    ['a Tuesday at 160 % of its level', 30, 1.6, 'fail'],
  ])('%s → %s', (_name, day, factor, status) => {
    const from = SUNDAY + day * DAY;
    const series = hourly(day + 1, shape, 17, (ms) => (ms >= from ? factor : 1));
    const finding = evaluateAt(series, from + DAY);
    expect(finding.status).toBe(status);
    if (status === 'fail') expect(finding.message).toMatch(/\(trend \+1\.\d %\/day\)$/);
  });
});

describe('clean tables of every shape stay quiet; a day at 60 % does not', () => {
  // 16 tables, each judged every 6 hours over the week after 21 days of history.
  const shapes: TableShape[] = Array.from({ length: 16 }, (_, i) => ({
    rate: [20, 60, 150, 400][i % 4]!,
    weekend: [1, 0.5, 0.8, 0.35][Math.floor(i / 4)]!,
    growth: [-0.004, 0, 0.005, 0.01][(i + Math.floor(i / 4)) % 4]!,
    daySigma: [0.03, 0.06, 0.09, 0.12][(i * 3) % 4]!,
  }));
  const ticks = Array.from({ length: 28 }, (_, k) => SUNDAY + 21 * DAY + (k + 1) * 6 * HOUR);

  it('no clean table fails on any tick', () => {
    const failures = shapes.flatMap((shape, i) => {
      const series = hourly(29, shape, 100 + i);
      return ticks.filter((now) => evaluateAt(series, now).status === 'fail').map((now) => `table ${i} at ${new Date(now).toISOString()}`);
    });
    expect(failures).toEqual([]);
  });

  // Two days at 60 %: on tables with enough rows and steady days (3 % day to day) that is far
  // outside the noise and must page. Where days vary by 9–12 % (or 20 rows an hour make the
  // count itself noisy) the 24-hour window varies by 10–15 %, a 40 % drop is a 3–4 σ day and
  // paging on it would page on quiet days too: about half of those are caught.
  it('a 48-hour drop to 60 % fails on every table with steady days and enough rows', () => {
    const start = SUNDAY + 23 * DAY + 8 * HOUR;
    const missed = shapes.flatMap((shape, i) => {
      const series = hourly(29, shape, 100 + i, (ms) => (ms >= start && ms < start + 48 * HOUR ? 0.6 : 1));
      const caught = ticks.some((now) => now > start && evaluateAt(series, now).status === 'fail');
      return caught ? [] : [{ i, ...shape }];
    });
    expect(missed.filter((shape) => shape.rate >= 60 && shape.daySigma <= 0.03)).toEqual([]);
    expect(missed.length).toBeLessThanOrEqual(7);
  });
});

describe('thin weekday slots in the first weeks', () => {
  // Daily rows from a Monday: weekdays ~3,400 (±15 %), weekends ~1,300. After 20 days the third
  // Sunday has two Sundays before it: too few slots of 3 to fit a weekly noise the usual way.
  const random = seededRandom(9);
  const history = Array.from({ length: 22 }, (_, i) => {
    const weekday = (i + 1) % 7;
    return { bucket: new Date(SUNDAY + (i + 1) * DAY), value: Math.round((weekday % 6 === 0 ? 1300 : 3400) * (0.85 + 0.3 * random())) };
  });
  const daily = settings({ bucketMs: DAY, noise: 'counts' });
  const score = (day: number, value: number) => {
    const bucket = new Date(SUNDAY + day * DAY);
    const series = [...history.filter((p) => p.bucket < bucket), { bucket, value }];
    return evaluateVolume({ asset: 'a.s.t', series, settings: daily, now: new Date(bucket.getTime() + DAY) });
  };

  it.each([
    ['a quiet Sunday, as quiet as the two before', 21, 1150, 'ok'],
    ['the Tuesday after, as quiet as a Sunday', 23, 1150, 'fail'],
    ['that Tuesday at its usual level', 23, 3300, 'ok'],
  ])('%s → %s', (_name, day, value, status) => {
    expect(score(day, value).status).toBe(status);
  });

  it('the thin Sunday is centred on its own Sundays, not on the median of all days', () => {
    const expectation = expectationFor(history.slice(0, 20), new Date(SUNDAY + 21 * DAY), daily)!;
    expect(expectation.seasonality).toBe('day_of_week');
    expect(expectation.center).toBeLessThan(2000);
  });
});

describe('a slot with one odd week does not blow up the band', () => {
  // Daily rows: weekdays ~9,000 (±10 %); the three Saturdays before were 6,839, 4,737 and 3,774
  // (one busy, one quiet: their MAD says ±45 %, the table's noise says far less).
  const random = seededRandom(4);
  const saturdays = [6839, 4737, 3774];
  const history = Array.from({ length: 27 }, (_, i) => {
    const weekday = i % 7;
    const value = weekday === 6 ? saturdays[Math.floor(i / 7)]! : weekday === 0 ? 4800 * (0.9 + 0.2 * random()) : 9000 * (0.9 + 0.2 * random());
    return { bucket: new Date(SUNDAY + i * DAY), value: Math.round(value) };
  });
  it.each([
    ['a Saturday of 15,000 (three times the usual)', 15_000, 'fail'],
    ['a Saturday of 5,500', 5_500, 'ok'],
  ])('%s → %s', (_name, value, status) => {
    const bucket = new Date(SUNDAY + 27 * DAY);
    const finding = evaluateVolume({ asset: 'a.s.t', series: [...history, { bucket, value }], settings: settings({ bucketMs: DAY, noise: 'counts' }), now: new Date(bucket.getTime() + DAY) });
    expect(finding.status).toBe(status);
  });
});

describe('band arithmetic', () => {
  it.each([
    ['a day keeps the sensitivity', 4, DAY, 4],
    ['an hour (24 judgements a day)', 4, HOUR, 4.7],
    ['an hour at high sensitivity', 3, HOUR, 3.86],
  ])('perDaySigmas: %s', (_name, sigmas, bucketMs, expected) => {
    expect(perDaySigmas(sigmas, bucketMs)).toBeCloseTo(expected, 1);
  });

  it.each([
    ['28 days of errors', 28, 4.72],
    ['500 hours of errors', 500, 4.01],
    ['no count given', undefined, 4],
  ])('sigmasForResiduals: %s', (_name, residuals, expected) => {
    expect(sigmasForResiduals(4, residuals)).toBeCloseTo(expected, 1);
  });

  it('trimmedScale estimates σ of normal errors and ignores the largest tenth', () => {
    const z = normal(seededRandom(21));
    const errors = Float64Array.from({ length: 2000 }, () => Math.abs(2 * z()));
    expect(trimmedScale(errors)).toBeCloseTo(2, 1);
    const broken = Float64Array.from(errors, (value, i) => (i % 20 === 0 ? value * 50 : value));
    expect(trimmedScale(broken)).toBeLessThan(2.3);
  });
});
