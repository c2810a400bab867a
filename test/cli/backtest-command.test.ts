// `pipewarden backtest` through runCli on a state DB seeded with stored history (no warehouse: its
// URL points at a closed port, so the command must work from table_state and observations alone).
// Story, with now = Thursday 2025-03-20 06:00 UTC and the 14-day window from 2025-03-06:
// - orders: 8 weeks of daily rows, ~1,000 on weekdays and ~300 on Sundays; one drop to 400 on
//   Wednesday 03-12; the status column's null fraction jumps from 1 % to 30 % on Monday 03-17.
// - top_items (volume without a column): catalog estimates ~5,000, collapsing to 50 on 03-18.
// - feed (learned freshness): loaded daily at 02:00, but nothing on 03-14 and 03-15 (a 72h gap).
// - outage (its own config, 10-day history, no seasonality): 1,000 a day, then 500 a day for the
//   last 6 days: the last one alerts only if the flagged days before it left its baseline (else
//   5 of its 9 comparable days are 500 and the outage looks normal). Two copies of it: on one the
//   daemon once flagged the four normal days before the outage (the replay re-judges those), on
//   the other people marked those findings expected (they stay out: the outage's late days have
//   too few comparable days left to be judged).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { recordProfile } from '../../src/store/profile-observations.ts';
import { upsertExpectedMark } from '../../src/store/expected-marks.ts';
import { insertFindings, upsertObservations } from '../../src/store/sweep-records.ts';
import type { Observation } from '../../src/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2025-03-20T06:00:00Z');
const TODAY = new Date('2025-03-20T00:00:00Z');
const day = (offset: number): Date => new Date(TODAY.getTime() + offset * DAY);
const iso = (offset: number): string => day(offset).toISOString();
/** 2025-03-16 (offset -4) is a Sunday. */
const isSunday = (offset: number): boolean => (((offset + 4) % 7) + 7) % 7 === 0;

const ORDERS = 'analytics.shop.orders';
const TOP_ITEMS = 'analytics.shop.top_items';
const FEED = 'analytics.shop.feed';
const OUTAGE = 'analytics.shop.outage';
const FLAGGED = 'analytics.shop.outage_flagged';
const MARKED = 'analytics.shop.outage_marked';
const FIRST_DAY = -56;
const offsets = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let state: TestDatabase;
let dir: string;

async function seedCatalog(tables: readonly string[]): Promise<void> {
  await state.pool().query(
    `INSERT INTO table_state (asset, warehouse, schema_name, table_name, kind, columns, first_seen_at, last_seen_at)
     SELECT 'analytics.shop.' || name, 'analytics', 'shop', name, 'table', '[]'::jsonb, $2, $2 FROM unnest($1::text[]) AS name`,
    [tables, NOW],
  );
}

/** A daily profile as the profile job stores it: rows (and status null fractions) plus its progress. */
async function seedDailyProfile(asset: string, rows: (offset: number) => number, nullFraction?: (offset: number) => number): Promise<void> {
  const observations: Observation[] = offsets(FIRST_DAY, -1).flatMap((offset) => [
    { asset, metric: 'rows', column: '', bucket: day(offset), value: rows(offset) },
    ...(nullFraction ? [{ asset, metric: 'null_fraction', column: 'status', bucket: day(offset), value: nullFraction(offset) }] : []),
  ]);
  const range = { asset, from: day(FIRST_DAY), to: TODAY, tableMetrics: ['rows', 'max_timestamp'], columns: nullFraction ? ['status'] : [] };
  const progress = { asset, timeColumn: 'created_at', bucketMs: DAY, measuresKey: 'seeded', firstBucket: day(FIRST_DAY), measuredThrough: TODAY };
  await recordProfile(state.pool(), range, observations, progress, NOW);
}

/** Volume findings the daemon stored as failing for these days, optionally marked expected by a person. */
async function seedDaemonFlags(asset: string, days: readonly number[], markExpected: boolean): Promise<void> {
  const findings = days.map((k) => ({ check: `volume:${asset}`, kind: 'volume' as const, asset, status: 'fail' as const, observed: 1000, bucket: iso(k), message: 'seeded' }));
  await insertFindings(state.pool(), findings, NOW);
  if (!markExpected) return;
  const { rows } = await state.pool().query<{ id: number }>('SELECT id FROM findings WHERE check_id = $1', [`volume:${asset}`]);
  for (const row of rows) await upsertExpectedMark(state.pool(), row.id, 'test', NOW);
}

async function seedHistory(): Promise<void> {
  await seedCatalog(['orders', 'top_items', 'feed', 'outage', 'outage_flagged', 'outage_marked']);
  const ordersRows = (k: number) => (k === -8 ? 400 : isSunday(k) ? 300 + 10 * (((k + 100) * 2) % 3) : 1000 + 20 * (((k + 100) * 3) % 5));
  await seedDailyProfile(ORDERS, ordersRows, (k) => (k === -3 ? 0.3 : 0.01));
  const outage = (k: number) => (k >= -6 ? 500 : 1000 + 20 * (((k + 100) * 3) % 5));
  for (const asset of [OUTAGE, FLAGGED, MARKED]) await seedDailyProfile(asset, outage);
  await seedDaemonFlags(FLAGGED, offsets(-10, -7), false);
  await seedDaemonFlags(MARKED, offsets(-10, -7), true);
  const estimates = offsets(FIRST_DAY, 0).map((k) => ({ asset: TOP_ITEMS, metric: 'row_estimate', column: '', bucket: new Date(day(k).getTime() + 3 * HOUR), value: k === -2 ? 50 : 5000 + 40 * (((k + 100) * 3) % 5) }));
  const loads = offsets(-40, 0)
    .filter((k) => k !== -6 && k !== -5)
    .map((k) => ({ asset: FEED, metric: 'max_timestamp', column: 'loaded_at', bucket: new Date(day(k).getTime() + 2 * HOUR + 300_000), value: day(k).getTime() + 2 * HOUR }));
  await upsertObservations(state.pool(), [...estimates, ...loads], NOW);
}

async function writeConfig(name: string, extra: Record<string, unknown>): Promise<void> {
  const config = {
    // Nothing listens on port 9: the backtest must not need the warehouse.
    warehouses: { analytics: { type: 'postgres', url: 'postgres://nobody@127.0.0.1:9/none', connect_timeout: '1s' } },
    state: { url: state.url },
    ...extra,
  };
  await writeFile(path.join(dir, name), stringify(config));
}

beforeAll(async () => {
  state = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-backtest-'));
  await seedHistory();
  await writeConfig('pipewarden.yaml', {
    monitors: [
      { assets: [ORDERS], volume: { column: 'created_at', bucket: '1d' }, distribution: { column: 'created_at', bucket: '1d', columns: ['status'] } },
      { assets: [TOP_ITEMS], volume: { bucket: '1d' } },
      { assets: [FEED], freshness: { column: 'loaded_at' } },
    ],
  });
  await writeConfig('outage.yaml', {
    profiling: { history: '10d' },
    monitors: [{ assets: [OUTAGE, FLAGGED, MARKED], volume: { column: 'created_at', bucket: '1d', seasonality: 'none' } }],
  });
});

afterAll(async () => {
  await Promise.all([state?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

const cli = (...args: string[]) => runCliCaptured(args, { env: {}, cwd: dir, now: () => NOW });

interface Report {
  alerts: Array<Record<string, unknown>>;
  summary: Record<string, number>;
}

async function backtestJson(...args: string[]): Promise<Report> {
  const { code, stdout, stderr } = await cli('backtest', '--json', ...args);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as Report;
}

const alertKeys = (report: Report) => report.alerts.map((alert) => `${alert.status} ${alert.check} ${alert.bucket}`).sort();

const FEED_LATE = new Date(day(-7).getTime() + 2 * HOUR + 2 * DAY).toISOString();

describe('pipewarden backtest', () => {
  it('lists exactly the drop, the null jump, the size collapse and the late feed, not the quiet Sundays', async () => {
    const report = await backtestJson();
    expect(alertKeys(report)).toEqual(
      [
        `fail volume:${ORDERS} ${iso(-8)}`,
        `fail distribution:${ORDERS}:status ${iso(-3)}`,
        `fail volume:${TOP_ITEMS} ${iso(-2)}`,
        `fail freshness:${FEED} ${FEED_LATE}`,
      ].sort(),
    );
    expect(report.summary).toEqual({ checks: 4, buckets: 14 + 14 + 14 + 14, warn: 0, fail: 4, days: 14 });
  });

  it('prints each alert with its bucket, observed value, expected range, score and message', async () => {
    const report = await backtestJson();
    const drop = report.alerts.find((alert) => alert.check === `volume:${ORDERS}`);
    expect(Object.keys(drop ?? {}).sort()).toEqual(['asset', 'bucket', 'check', 'expected', 'kind', 'message', 'observed', 'score', 'status']);
    expect(drop).toMatchObject({ kind: 'volume', asset: ORDERS, status: 'fail', bucket: iso(-8), observed: 400 });
    const expected = drop?.expected as { low: number; high: number };
    expect(expected.low).toBeGreaterThan(400);
    // Row counts are skewed: the band has more room above the centre than below.
    expect(expected.high).toBeLessThan(1400);
    expect(drop?.score).toBeLessThan(-4);
    expect(drop?.message).toContain('400 rows on Wednesday 2025-03-12');
    const nulls = report.alerts.find((alert) => alert.kind === 'distribution');
    expect(nulls).toMatchObject({ column: 'status', observed: 0.3 });
    const late = report.alerts.find((alert) => alert.kind === 'freshness');
    expect(late).toMatchObject({ column: 'loaded_at', observed: 72 * 3600 - 0.001, expected: { low: 0, high: 48 * 3600 } });
  });

  it('narrows to the last N days with --days', async () => {
    const report = await backtestJson('--days', '7');
    expect(alertKeys(report)).toEqual(
      [`fail distribution:${ORDERS}:status ${iso(-3)}`, `fail volume:${TOP_ITEMS} ${iso(-2)}`, `fail freshness:${FEED} ${FEED_LATE}`].sort(),
    );
    expect(report.summary).toMatchObject({ checks: 4, buckets: 7 + 7 + 7 + 7, days: 7 });
  });

  it('narrows to the selected assets with --select', async () => {
    const report = await backtestJson('--select', FEED);
    expect(alertKeys(report)).toEqual([`fail freshness:${FEED} ${FEED_LATE}`]);
    expect(report.summary).toMatchObject({ checks: 1, fail: 1 });
  });

  it('keeps flagged days out of later baselines: every day of a week-long outage alerts', async () => {
    const report = await backtestJson('--config', 'outage.yaml', '--select', OUTAGE);
    expect(alertKeys(report)).toEqual(offsets(-6, -1).map((k) => `fail volume:${OUTAGE} ${iso(k)}`).sort());
  });

  it('re-judges what the daemon flagged inside the window, but keeps expected marks out of baselines', async () => {
    const flagged = await backtestJson('--config', 'outage.yaml', '--select', FLAGGED);
    expect(alertKeys(flagged)).toEqual(offsets(-6, -1).map((k) => `fail volume:${FLAGGED} ${iso(k)}`).sort());
    const marked = await backtestJson('--config', 'outage.yaml', '--select', MARKED);
    expect(alertKeys(marked)).toEqual(offsets(-6, -4).map((k) => `fail volume:${MARKED} ${iso(k)}`).sort());
  });

  it('prints alerts grouped by check and a summary for people', async () => {
    const { code, stdout } = await cli('backtest', '--days', '3');
    expect(code).toBe(0);
    expect(stdout).toContain(`distribution:${ORDERS}:status: 1 alert in 3 buckets`);
    expect(stdout).toMatch(/FAIL {2}2025-03-17 00:00 {2}observed 0\.3 {2}expected .* analytics\.shop\.orders: null fraction of status rose/);
    expect(stdout).toContain('4 checks · 14 buckets replayed · 2 fail · 0 warn');
    expect(stdout).toContain(`alerts per check: distribution:${ORDERS}:status 1, volume:${TOP_ITEMS} 1`);
    expect(stdout).toContain('alerts per day: 2025-03-17 1, 2025-03-18 1');
    expect(stdout).toContain(`never alerted: volume:${ORDERS}, freshness:${FEED}`);
  });

  it('exits 2 on an invalid config and says where', async () => {
    await writeFile(path.join(dir, 'broken.yaml'), stringify({ warehouses: { analytics: { type: 'postgres', url: 'x' } }, monitors: [{ assets: [ORDERS], volume: { sensitivity: 'extreme' } }] }));
    const { code, stderr } = await cli('--config', 'broken.yaml', 'backtest');
    expect(code).toBe(2);
    expect(stderr).toContain('sensitivity');
  });
});
