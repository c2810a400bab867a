import { describe, expect, it } from 'vitest';
import { evaluateSqlmeshIntervals, type SqlmeshModel } from '../../../src/collect/sqlmesh/evaluate-sqlmesh-intervals.ts';
import { mergeIntervalRecords } from '../../../src/collect/sqlmesh/merge-intervals.ts';

const ms = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const settings = { lateAfterMs: HOUR, lookbackMs: 7 * DAY };

function model(overrides: Partial<SqlmeshModel>): SqlmeshModel {
  return {
    name: 'shop.orders',
    kind: 'INCREMENTAL_BY_TIME_RANGE',
    cron: '@daily',
    cronTimezone: undefined,
    intervalUnit: undefined,
    start: undefined,
    end: undefined,
    intervals: [],
    ...overrides,
  };
}

describe('evaluateSqlmeshIntervals', () => {
  it('skips kinds that have no intervals to fill', () => {
    for (const kind of ['VIEW', 'EMBEDDED', 'SEED', 'EXTERNAL']) {
      expect(evaluateSqlmeshIntervals(model({ kind }), settings, new Date('2025-06-10T12:00:00Z'))).toBeUndefined();
    }
  });

  it('expects a "0 5 * * *" model to hold yesterday only from 05:00 on', () => {
    const filled = model({ cron: '0 5 * * *', intervals: [[ms('2025-06-01T00:00:00Z'), ms('2025-06-09T00:00:00Z')]] });
    expect(evaluateSqlmeshIntervals(filled, settings, new Date('2025-06-10T04:00:00Z'))?.status).toBe('ok');
    expect(evaluateSqlmeshIntervals(filled, settings, new Date('2025-06-10T05:30:00Z'))?.message).toContain('daily interval 2025-06-09 not filled yet, due since the 2025-06-10 05:00 UTC run (30m ago, grace 1h)');
    expect(evaluateSqlmeshIntervals(filled, settings, new Date('2025-06-10T06:30:00Z'))?.status).toBe('warn');
  });

  it('does not expect a weekly model to hold the days since its last run', () => {
    // @weekly runs Sunday 00:00; 2025-06-08 is a Sunday.
    const weekly = model({ cron: '@weekly', intervals: [[ms('2025-05-01T00:00:00Z'), ms('2025-06-08T00:00:00Z')]] });
    expect(evaluateSqlmeshIntervals(weekly, settings, new Date('2025-06-13T12:00:00Z'))).toMatchObject({ status: 'ok', observed: 0 });
  });

  it('judges hourly models by the hour, and lists long runs of missing intervals as a range', () => {
    const hourly = model({ cron: '@hourly', intervals: [[ms('2025-06-09T00:00:00Z'), ms('2025-06-10T02:00:00Z')]] });
    const finding = evaluateSqlmeshIntervals(hourly, { lateAfterMs: 10 * 60_000, lookbackMs: DAY }, new Date('2025-06-10T08:30:00Z'));
    expect(finding).toMatchObject({ status: 'fail', observed: 6, bucket: '2025-06-10T02:00:00.000Z' });
    expect(finding?.message).toBe('sqlmesh:shop.orders: 6 hourly intervals missing (2025-06-10 02:00..2025-06-10 07:00 (6)); newest filled ends 2025-06-10 02:00 UTC');
  });

  it('shows the first few missing intervals and how many more', () => {
    const gappy = model({ start: ms('2025-06-01T00:00:00Z'), intervals: [0, 2, 4, 6, 8, 10, 12].map((n) => [ms('2025-06-01T00:00:00Z') + n * DAY, ms('2025-06-01T00:00:00Z') + (n + 1) * DAY] as const) });
    const finding = evaluateSqlmeshIntervals(gappy, { lateAfterMs: HOUR, lookbackMs: 30 * DAY }, new Date('2025-06-14T12:00:00Z'));
    expect(finding?.message).toBe('sqlmesh:shop.orders: 6 daily intervals missing (2025-06-02, 2025-06-04, 2025-06-06, 2025-06-08, 2025-06-10, and 1 more); newest filled ends 2025-06-13');
  });

  it('starts at the model\'s start, stops at its end, and prefers a written interval_unit over the cron', () => {
    const young = model({ start: ms('2025-06-08T00:00:00Z'), intervals: [] });
    expect(evaluateSqlmeshIntervals(young, settings, new Date('2025-06-10T12:00:00Z'))?.message).toBe(
      'sqlmesh:shop.orders: 2 daily intervals missing (2025-06-08, 2025-06-09); nothing filled yet',
    );
    const ended = model({ end: ms('2025-06-05T00:00:00Z'), intervals: [[ms('2025-05-01T00:00:00Z'), ms('2025-06-05T00:00:00Z')]] });
    expect(evaluateSqlmeshIntervals(ended, settings, new Date('2025-06-10T12:00:00Z'))?.status).toBe('ok');
    const monthly = model({ intervalUnit: 'month', cron: '@daily', intervals: [[ms('2025-01-01T00:00:00Z'), ms('2025-05-01T00:00:00Z')]] });
    expect(evaluateSqlmeshIntervals(monthly, { lateAfterMs: HOUR, lookbackMs: 90 * DAY }, new Date('2025-06-10T12:00:00Z'))).toMatchObject({ status: 'warn', observed: 1 });
  });

  it('reports a cron it cannot judge as an error finding saying why', () => {
    expect(evaluateSqlmeshIntervals(model({ cron: '* * * * *' }), settings, new Date('2025-06-10T12:00:00Z'))).toMatchObject({
      status: 'error',
      observed: null,
      message: 'sqlmesh:shop.orders: cannot judge intervals: cron "* * * * *" runs more often than every 5 minutes, which SQLMesh does not allow',
    });
  });
});

describe('mergeIntervalRecords', () => {
  it('folds additions and removals in the order they were written', () => {
    const records = [
      { start: 0, end: 10, createdAt: 1, removed: false },
      { start: 3, end: 5, createdAt: 2, removed: true },
      { start: 10, end: 12, createdAt: 3, removed: false },
      { start: 4, end: 5, createdAt: 4, removed: false },
      // Read back in any order: the removal was written first, so it removes nothing.
      { start: 20, end: 25, createdAt: 5, removed: false },
      { start: 20, end: 30, createdAt: 0, removed: true },
    ];
    expect(mergeIntervalRecords(records)).toEqual([
      [0, 3],
      [4, 12],
      [20, 25],
    ]);
  });
});
