import { describe, expect, it } from 'vitest';
import { evaluateLearnedFreshness, type LearnedFreshnessInput } from '../../src/detect/freshness-cadence.ts';
import { DAY, HOUR, SUNDAY } from './series-fixtures.ts';

const ASSET = 'marketplace.raw.store_inventory';
const MINUTE = 60_000;

/** Update times every `everyMs` from `startMs` up to and including `lastMs`, skipping `skip(ms)`. */
function updates(startMs: number, everyMs: number, lastMs: number, skip: (ms: number) => boolean = () => false): Date[] {
  const times: Date[] = [];
  for (let ms = startMs; ms <= lastMs; ms += everyMs) if (!skip(ms)) times.push(new Date(ms));
  return times;
}

function evaluate(updateTimes: Date[], now: number, overrides: Partial<LearnedFreshnessInput> = {}) {
  return evaluateLearnedFreshness({ asset: ASSET, column: 'loaded_at', lastUpdate: updateTimes.at(-1) ?? null, updateTimes, settings: { sensitivity: 'medium' }, now: new Date(now), ...overrides });
}

describe('evaluateLearnedFreshness: an hourly feed', () => {
  const last = SUNDAY + 14 * DAY + 2 * HOUR; // Sunday 02:00
  const hourly = updates(SUNDAY, HOUR, last);

  it.each([
    [30 * MINUTE, 'ok'],
    [95 * MINUTE, 'ok'],
    [100 * MINUTE, 'warn'],
    [120 * MINUTE, 'warn'],
    [121 * MINUTE, 'fail'],
  ])('%d ms after the last update is %s (limit: 2 × the usual hour at medium)', (ageMs, status) => {
    expect(evaluate(hourly, last + ageMs).status).toBe(status);
  });

  it('says how late the data is against what was expected', () => {
    const finding = evaluate(hourly, last + 7 * HOUR + 12 * MINUTE);
    expect(finding).toMatchObject({
      check: `freshness:${ASSET}`,
      kind: 'freshness',
      column: 'loaded_at',
      status: 'fail',
      observed: (7 * HOUR + 12 * MINUTE) / 1000,
      expected: { low: 0, high: 7200 },
      message: `${ASSET}: no new loaded_at for 7h 12m; it usually updates every 1h (latest expected by 04:00)`,
    });
  });

  it('gives the expected time in the configured zone', () => {
    const finding = evaluate(hourly, last + 3 * HOUR, { timezone: 'Asia/Tokyo' });
    expect(finding.message).toContain('(latest expected by 13:00)');
  });

  it('is more patient at low sensitivity and less at high', () => {
    expect(evaluate(hourly, last + 150 * MINUTE).status).toBe('fail');
    expect(evaluate(hourly, last + 150 * MINUTE, { settings: { sensitivity: 'low' } }).status).toBe('warn');
    expect(evaluate(hourly, last + 100 * MINUTE, { settings: { sensitivity: 'high' } }).status).toBe('fail');
  });

  it('speaks of writes when update times come from write counters', () => {
    expect(evaluate(hourly, last + 5 * HOUR, { column: undefined }).message).toMatch(/: no new writes for 5h;/);
  });
});

describe('evaluateLearnedFreshness: cadence by time of week', () => {
  // A weekday feed landing at 06:00 Monday to Friday, for four weeks.
  const weekday = (ms: number): boolean => [0, 6].includes(new Date(ms).getUTCDay());
  const fridayLast = SUNDAY + 26 * DAY + 6 * HOUR; // Friday 28 Feb 06:00
  const feed = updates(SUNDAY + 6 * HOUR, DAY, fridayLast, weekday);

  it('a quiet weekend is not late: the gap after a Friday is usually three days', () => {
    const finding = evaluate(feed, fridayLast + 54 * HOUR);
    expect(finding.status).toBe('ok');
    expect(finding.message).toContain('it usually updates every 3d');
  });

  it('the same two days without data after a Wednesday is', () => {
    const wednesdayLast = fridayLast - 2 * DAY;
    const finding = evaluate(feed.filter((t) => t.getTime() <= wednesdayLast), wednesdayLast + 54 * HOUR);
    expect(finding.status).toBe('fail');
    expect(finding.message).toContain('it usually updates every 1d');
  });
});

describe('evaluateLearnedFreshness: learning and resolution', () => {
  it('is ok and learning with fewer than 5 gaps', () => {
    const few = updates(SUNDAY, HOUR, SUNDAY + 4 * HOUR);
    const finding = evaluate(few, SUNDAY + 3 * DAY);
    expect(finding.status).toBe('ok');
    expect(finding.message).toBe(`${ASSET}: updated 2d 20h ago; still learning its cadence (4 of 5 gaps between updates seen)`);
  });

  it('is ok and learning when no update was ever seen', () => {
    expect(evaluate([], SUNDAY)).toMatchObject({ status: 'ok', observed: null });
  });

  it('counts lastUpdate even when it is not among the update times', () => {
    const times = updates(SUNDAY, HOUR, SUNDAY + 10 * HOUR);
    const later = new Date(SUNDAY + 11 * HOUR);
    expect(evaluate(times, SUNDAY + 12 * HOUR, { lastUpdate: later }).observed).toBe(HOUR / 1000);
  });

  it('never sets the limit within two observation intervals of the usual gap', () => {
    const everyFiveMinutes = updates(SUNDAY, 5 * MINUTE, SUNDAY + DAY);
    const last = SUNDAY + DAY;
    expect(evaluate(everyFiveMinutes, last + 12 * MINUTE).status).toBe('fail');
    const sweeps = { settings: { sensitivity: 'medium' as const, resolutionMs: 5 * MINUTE } };
    expect(evaluate(everyFiveMinutes, last + 12 * MINUTE, sweeps).status).not.toBe('fail');
    expect(evaluate(everyFiveMinutes, last + 16 * MINUTE, sweeps).status).toBe('fail');
  });
});
