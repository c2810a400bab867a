import { describe, expect, it } from 'vitest';
import { chooseSeasonality, describeSlot, seasonalKey } from '../../src/detect/seasonality.ts';
import { localTime, offsetMs } from '../../src/detect/local-time.ts';
import { DAY, HOUR, SUNDAY, makeSeries, nightDip, quietSundays } from './series-fixtures.ts';

describe('seasonalKey', () => {
  const tuesday1300 = Date.UTC(2025, 2, 4, 13);
  it.each([
    ['none', undefined, 0],
    ['hour_of_day', undefined, 13],
    ['day_of_week', undefined, 2],
    ['hour_of_week', undefined, 2 * 24 + 13],
    // New York is UTC−5 in early March: 13:00 UTC is 08:00 there.
    ['hour_of_day', 'America/New_York', 8],
    ['hour_of_week', 'Asia/Tokyo', 2 * 24 + 22],
  ] as const)('%s of Tuesday 13:00 UTC in %s is %d', (seasonality, timezone, key) => {
    expect(seasonalKey(tuesday1300, seasonality, timezone)).toBe(key);
  });

  it('reads the weekday in the zone: Monday 02:00 UTC is still Sunday evening in New York', () => {
    const monday0200 = Date.UTC(2025, 2, 3, 2);
    expect(seasonalKey(monday0200, 'day_of_week')).toBe(1);
    expect(seasonalKey(monday0200, 'day_of_week', 'America/New_York')).toBe(0);
  });

  it('reads day buckets at their middle, so a UTC day keeps its weekday a few hours off UTC', () => {
    const tuesdayUtc = Date.UTC(2025, 2, 4);
    expect(seasonalKey(tuesdayUtc, 'day_of_week', 'America/Los_Angeles', DAY)).toBe(2);
    expect(seasonalKey(tuesdayUtc, 'day_of_week', 'Asia/Tokyo', DAY)).toBe(2);
  });

  it('follows daylight saving time: 13:00 UTC is 08:00 in New York before 9 March 2025 and 09:00 after', () => {
    expect(seasonalKey(Date.UTC(2025, 2, 7, 13), 'hour_of_day', 'America/New_York')).toBe(8);
    expect(seasonalKey(Date.UTC(2025, 2, 11, 13), 'hour_of_day', 'America/New_York')).toBe(9);
  });

  it('handles zones with half-hour offsets', () => {
    expect(offsetMs(Date.UTC(2025, 0, 1), 'Asia/Kolkata')).toBe(5.5 * HOUR);
    expect(localTime(new Date(Date.UTC(2025, 0, 1, 20, 45)), 'Asia/Kolkata')).toEqual({ year: 2025, month: 1, day: 2, hour: 2, minute: 15, weekday: 4 });
  });
});

describe('describeSlot', () => {
  const bucket = new Date(Date.UTC(2025, 2, 4, 13));
  it.each([
    ['none', ''],
    ['hour_of_day', 'for 13:00'],
    ['day_of_week', 'for a Tuesday'],
    ['hour_of_week', 'for a Tuesday 13:00'],
  ] as const)('%s → "%s"', (seasonality, words) => {
    expect(describeSlot(bucket, seasonality)).toBe(words);
  });

  it('speaks in the zone', () => {
    expect(describeSlot(bucket, 'hour_of_week', 'Europe/Paris')).toBe('for a Tuesday 14:00');
  });
});

describe('chooseSeasonality', () => {
  it.each([
    ['flat daily rows', makeSeries(SUNDAY, DAY, 28, () => 1000), DAY, 'none'],
    ['daily rows with quiet Sundays', makeSeries(SUNDAY, DAY, 28, quietSundays), DAY, 'day_of_week'],
    ['quiet Sundays seen only twice (too few per weekday)', makeSeries(SUNDAY, DAY, 14, quietSundays), DAY, 'none'],
    ['noisy daily rows with no weekly pattern', makeSeries(SUNDAY, DAY, 35, () => 1000, 0.3), DAY, 'none'],
    ['hourly rows with a night dip', makeSeries(SUNDAY, HOUR, 14 * 24, nightDip), HOUR, 'hour_of_day'],
    [
      'hourly rows with a night dip and quiet Sundays',
      makeSeries(SUNDAY, HOUR, 28 * 24, (ms) => nightDip(ms) * (new Date(ms).getUTCDay() === 0 ? 0.2 : 1)),
      HOUR,
      'hour_of_week',
    ],
    ['hourly rows, flat', makeSeries(SUNDAY, HOUR, 28 * 24, () => 500), HOUR, 'none'],
  ] as const)('%s → %s', (_name, series, bucketMs, expected) => {
    expect(chooseSeasonality(series, bucketMs)).toBe(expected);
  });

  it('reads weekdays in the zone: a quiet local Sunday is a pattern only when read in that zone', () => {
    // Daily buckets starting at Tokyo midnight (15:00 UTC the day before): quiet on Tokyo Sundays.
    const start = Date.UTC(2025, 1, 1, 15);
    const series = makeSeries(start, DAY, 28, (ms) => (localTime(new Date(ms + HOUR), 'Asia/Tokyo').weekday === 0 ? 200 : 1000));
    expect(chooseSeasonality(series, DAY, 'Asia/Tokyo')).toBe('day_of_week');
  });

  it('ignores excluded points: an excluded incident does not invent a pattern', () => {
    const series = makeSeries(SUNDAY, DAY, 28, () => 1000).map((point) =>
      point.bucket.getUTCDay() === 3 ? { ...point, value: 5, excluded: true } : point,
    );
    expect(chooseSeasonality(series, DAY)).toBe('none');
    expect(chooseSeasonality(series.map(({ excluded: _, ...point }) => point), DAY)).toBe('day_of_week');
  });

  it('is deterministic', () => {
    const series = makeSeries(SUNDAY, HOUR, 21 * 24, nightDip, 0.2);
    const first = chooseSeasonality(series, HOUR);
    for (let i = 0; i < 3; i++) expect(chooseSeasonality(series, HOUR)).toBe(first);
  });
});
