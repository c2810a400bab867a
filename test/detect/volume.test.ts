import { describe, expect, it } from 'vitest';
import { baselineSettingsFromVolume, evaluateVolume } from '../../src/detect/volume.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { DAY, HOUR, SUNDAY, makeSeries, nightDip, quietSundays, settings } from './series-fixtures.ts';

const ASSET = 'marketplace.shop.orders';
const daily = settings({ bucketMs: DAY });
const hourly = settings({ bucketMs: HOUR });

/** The history, then one more bucket holding `value`, evaluated once that bucket has ended. */
function evaluateAfter(history: SeriesPoint[], value: number, bucketMs: number, overrides = {}) {
  const bucketMs0 = history.at(-1)!.bucket.getTime() + bucketMs;
  const series = [...history, { bucket: new Date(bucketMs0), value }];
  return evaluateVolume({ asset: ASSET, series, settings: { ...settings({ bucketMs }), ...overrides }, now: new Date(bucketMs0 + bucketMs + 60_000) });
}

describe('evaluateVolume: weekly rhythm', () => {
  // 28 days from a Sunday: the next bucket is a Sunday, the one after a Monday, then a Tuesday.
  const history = makeSeries(SUNDAY, DAY, 28, quietSundays);

  it('a quiet Sunday is not an incident when Sundays are always quiet', () => {
    const finding = evaluateAfter(history, 210, DAY);
    expect(finding.status).toBe('ok');
    expect(finding.message).toMatch(/expected [\d,]+–[\d,]+ for a Sunday$/);
  });

  it('the same low value on a Tuesday is', () => {
    const toMonday = [...history, ...makeSeries(SUNDAY + 28 * DAY, DAY, 2, quietSundays)];
    const finding = evaluateAfter(toMonday, 210, DAY);
    expect(finding.status).toBe('fail');
    expect(finding.bucket).toBe('2025-03-04T00:00:00.000Z');
    expect(finding.message).toMatch(/^marketplace\.shop\.orders: 210 rows on Tuesday 2025-03-04, expected [\d,]+–[\d,]+ for a Tuesday$/);
    expect(finding.score).toBeLessThan(-4);
  });

  it('without seasonality the quiet Sunday would have been a false alarm', () => {
    expect(evaluateAfter(history, 210, DAY, { seasonality: 'none' }).status).toBe('fail');
  });
});

describe('evaluateVolume: hourly night dip', () => {
  const history = makeSeries(SUNDAY, HOUR, 14 * 24 + 3, nightDip); // ends with the 02:00 bucket

  it.each([
    ['10 rows at 03:00, normal for the night', 3, 10, 'ok'],
    ['0 rows at 03:00 when nights never are empty', 3, 0, 'fail'],
    ['10 rows at 14:00, a daytime collapse', 14, 10, 'fail'],
    ['100 rows at 14:00', 14, 100, 'ok'],
  ])('%s → %s', (_name, hour, value, status) => {
    const upTo = makeSeries(SUNDAY, HOUR, 14 * 24 + hour, nightDip);
    expect(evaluateAfter(upTo, value, HOUR).status).toBe(status);
  });

  it('says the rows, the hour it ended, the range and the slot in words', () => {
    const finding = evaluateAfter(history, 1204, HOUR);
    expect(finding).toMatchObject({ check: `volume:${ASSET}`, kind: 'volume', asset: ASSET, status: 'fail', observed: 1204, bucket: '2025-02-16T03:00:00.000Z' });
    expect(finding.message).toMatch(/^marketplace\.shop\.orders: 1,204 rows in the hour to 04:00, expected \d+–\d+ for 03:00$/);
    expect(finding.expected!.low).toBeGreaterThanOrEqual(0);
  });

  it('reads hours in the configured zone', () => {
    const finding = evaluateAfter(history, 1204, HOUR, { timezone: 'Europe/Paris' });
    expect(finding.message).toMatch(/in the hour to 05:00, expected \d+–\d+ for 04:00$/);
  });
});

describe('evaluateVolume: the empty-bucket rule and the minimum-change guards', () => {
  const tiny = makeSeries(SUNDAY, DAY, 28, () => 3, 0);

  it('a table that normally gets 3 rows a day and got 0 fails, though 3 rows are below min_absolute_change', () => {
    const finding = evaluateAfter(tiny, 0, DAY);
    expect(finding.status).toBe('fail');
    expect(finding.message).toMatch(/: no rows on Sunday 2025-03-02, expected 0–13$/);
  });

  it('fails an empty bucket even when only spikes count', () => {
    expect(evaluateAfter(tiny, 0, DAY, { direction: 'spike' }).status).toBe('fail');
  });

  it('1 row instead of 3 is within the guards', () => {
    expect(evaluateAfter(tiny, 1, DAY).status).toBe('ok');
  });

  it('an empty bucket is normal for a table that is often empty', () => {
    const sparse = makeSeries(SUNDAY, DAY, 28, (ms) => ((ms / DAY) % 3 === 0 ? 0 : 2), 0);
    expect(evaluateAfter(sparse, 0, DAY).status).toBe('ok');
  });

  it('an empty bucket is normal for a table that is empty at the median', () => {
    const mostlyEmpty = makeSeries(SUNDAY, DAY, 28, (ms) => ((ms / DAY) % 4 === 0 ? 1 : 0), 0);
    expect(evaluateAfter(mostlyEmpty, 0, DAY).status).toBe('ok');
  });
});

describe('evaluateVolume: learning and incomplete buckets', () => {
  it('is ok and says it is still learning with too little history', () => {
    const finding = evaluateAfter(makeSeries(SUNDAY, DAY, 2, () => 1000), 0, DAY);
    expect(finding.status).toBe('ok');
    expect(finding.message).toBe(`${ASSET}: no rows on Tuesday 2025-02-04; still learning its normal volume (2 of 3 comparable buckets so far)`);
    expect(finding.expected).toBeUndefined();
  });

  it('never scores the still-filling bucket', () => {
    const series = [...makeSeries(SUNDAY, DAY, 28, () => 1000), { bucket: new Date(SUNDAY + 28 * DAY), value: 3 }];
    const finding = evaluateVolume({ asset: ASSET, series, settings: daily, now: new Date(SUNDAY + 28 * DAY + 6 * HOUR) });
    expect(finding.status).toBe('ok');
    expect(finding.bucket).toBe(new Date(SUNDAY + 27 * DAY).toISOString());
  });

  it('with no complete bucket says so', () => {
    const finding = evaluateVolume({ asset: ASSET, series: [], settings: hourly, now: new Date(SUNDAY) });
    expect(finding).toMatchObject({ status: 'ok', observed: null, message: `${ASSET}: no complete bucket measured yet` });
  });
});

describe('baselineSettingsFromVolume', () => {
  it('maps the config block, with a one-row spread floor', () => {
    const config = { column: 'ordered_at', bucket: HOUR, sensitivity: 'high', direction: 'drop', min_absolute_change: 5, min_relative_change: 0.1, seasonality: 'hour_of_week' } as const;
    expect(baselineSettingsFromVolume(config, 'Europe/Paris')).toEqual({
      bucketMs: HOUR,
      sensitivity: 'high',
      direction: 'drop',
      minAbsoluteChange: 5,
      minRelativeChange: 0.1,
      seasonality: 'hour_of_week',
      minSpread: 1,
      noise: 'counts',
      timezone: 'Europe/Paris',
    });
    expect(baselineSettingsFromVolume(config)).not.toHaveProperty('timezone');
  });
});
