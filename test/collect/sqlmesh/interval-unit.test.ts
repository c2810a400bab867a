import { describe, expect, it } from 'vitest';
import { ceilToUnit, floorToUnit, formatIntervalStart, intervalUnitFromCron, lastCronRun, nextIntervalStart, parseIntervalUnit } from '../../../src/collect/sqlmesh/interval-unit.ts';

const ms = (iso: string): number => Date.parse(iso);

describe('intervalUnitFromCron', () => {
  it.each([
    ['@daily', 'day'],
    ['@hourly', 'hour'],
    ['@monthly', 'month'],
    ['@yearly', 'year'],
    // SQLMesh has no week unit: a weekly model fills daily intervals once a week.
    ['@weekly', 'day'],
    ['0 5 * * *', 'day'],
    ['0 0 * * 1-5', 'day'],
    ['30 * * * *', 'hour'],
    ['*/30 * * * *', 'half_hour'],
    ['*/15 * * * *', 'quarter_hour'],
    ['*/5 * * * *', 'five_minute'],
    ['0 0 1 */3 *', 'month'],
  ])('%s → %s', (cron, unit) => {
    expect(intervalUnitFromCron(cron)).toEqual({ ok: true, unit });
  });

  it('refuses a cron faster than five minutes, as SQLMesh does', () => {
    expect(intervalUnitFromCron('*/2 * * * *')).toEqual({ ok: false, reason: 'cron "*/2 * * * *" runs more often than every 5 minutes, which SQLMesh does not allow' });
  });

  it('says what is wrong with a cron it cannot read', () => {
    const result = intervalUnitFromCron('every day at noon');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^cron "every day at noon" is not one pipewarden can read \(.+\); use @daily, @hourly, @weekly, @monthly or five fields$/);
  });
});

describe('interval arithmetic', () => {
  it('aligns to UTC calendar boundaries', () => {
    expect(floorToUnit(ms('2025-02-14T13:45:00Z'), 'month')).toBe(ms('2025-02-01T00:00:00Z'));
    expect(nextIntervalStart(ms('2025-02-01T00:00:00Z'), 'month')).toBe(ms('2025-03-01T00:00:00Z'));
    expect(floorToUnit(ms('2025-02-14T13:45:00Z'), 'quarter_hour')).toBe(ms('2025-02-14T13:45:00Z'));
    expect(ceilToUnit(ms('2025-02-14T13:46:00Z'), 'hour')).toBe(ms('2025-02-14T14:00:00Z'));
    expect(ceilToUnit(ms('2025-02-14T00:00:00Z'), 'day')).toBe(ms('2025-02-14T00:00:00Z'));
    expect(nextIntervalStart(ms('2024-01-01T00:00:00Z'), 'year')).toBe(ms('2025-01-01T00:00:00Z'));
  });

  it('takes the cron run at now itself as the last run', () => {
    expect(lastCronRun('@daily', ms('2025-02-14T00:00:00Z'))).toBe(ms('2025-02-14T00:00:00Z'));
    expect(lastCronRun('0 5 * * *', ms('2025-02-14T04:59:00Z'))).toBe(ms('2025-02-13T05:00:00Z'));
    expect(lastCronRun('0 5 * * *', ms('2025-02-14T04:59:00Z'), 'America/New_York')).toBe(ms('2025-02-13T10:00:00Z'));
  });

  it('names intervals by their unit', () => {
    expect(formatIntervalStart(ms('2025-06-01T00:00:00Z'), 'day')).toBe('2025-06-01');
    expect(formatIntervalStart(ms('2025-06-01T00:00:00Z'), 'month')).toBe('2025-06');
    expect(formatIntervalStart(ms('2025-06-01T13:30:00Z'), 'half_hour')).toBe('2025-06-01 13:30');
    expect(parseIntervalUnit('HOUR')).toBe('hour');
    expect(parseIntervalUnit('week')).toBeUndefined();
  });
});
