// The profile job against a real warehouse (a blank database with tables made here) and a real
// state database. Each test profiles under its own warehouse name, so the asset keys it writes
// to observations, profile_state and findings are its own.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/types.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import * as fixtures from './profile-fixtures.ts';
import { createOrdersTable, DAY, day, iso, profile, rowsOnDay, seedDays, T0, TODAY, type ProfileSetup } from './profile-fixtures.ts';

let state: TestDatabase;
let warehouseDb: TestDatabase;
const opened: Warehouse[] = [];

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouseDb.pool().query('CREATE SCHEMA shop');
  await createOrdersTable(warehouseDb, 'orders');
  // 40 complete days, and today's first six hours (the still-filling bucket).
  await seedDays(warehouseDb, 'orders', -40, Array.from({ length: 41 }, (_, i) => rowsOnDay(i - 40)));
  await warehouseDb.pool().query(`DELETE FROM shop.orders WHERE created_at >= $1`, [T0]);
  await createOrdersTable(warehouseDb, 'gappy');
  // Rows on days -6, -5 and -2 only: -4, -3 and -1 are empty.
  await seedDays(warehouseDb, 'gappy', -6, [30, 30, 0, 0, 30, 0]);
});

afterAll(async () => {
  await Promise.allSettled(opened.map((warehouse) => warehouse.close()));
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

function profileContext(name: string, setup: ProfileSetup) {
  const harness = fixtures.profileContext(state, warehouseDb.url, name, setup);
  opened.push(harness.warehouse);
  return harness;
}

const observed = (asset: string, metric: string, column = '') => fixtures.observed(state, asset, metric, column);

function findingOf(findings: readonly Finding[], check: string): Finding {
  const found = findings.find((finding) => finding.check === check);
  if (!found) throw new Error(`no finding ${check}; got ${findings.map((finding) => finding.check).join(', ')}`);
  return found;
}

describe('runProfile: what is measured when', () => {
  it('backfills `history` of complete buckets on the first profile and never stores the still-filling one', async () => {
    let now = T0;
    const { context } = profileContext('first', {
      monitors: [{ assets: 'first.shop.orders', volume: { column: 'created_at', bucket: '1d' } }],
      profiling: { history: '14d', late_window: '2d' },
      now: () => now,
    });
    await profile(context);
    const rows = await observed('first.shop.orders', 'rows');
    expect([...rows.keys()]).toEqual(Array.from({ length: 14 }, (_, i) => iso(i - 14)));
    for (let offset = -14; offset < 0; offset++) expect(rows.get(iso(offset))).toBe(rowsOnDay(offset));
    const { rows: progress } = await state.pool().query('SELECT measured_through, first_bucket, first_profiled_at FROM profile_state WHERE asset = $1', ['first.shop.orders']);
    expect(progress).toEqual([{ measured_through: TODAY, first_bucket: day(-14), first_profiled_at: T0 }]);

    // Later the same day: nothing new is complete, today is still not stored.
    now = new Date(T0.getTime() + 12 * 3_600_000);
    await profile(context);
    expect([...(await observed('first.shop.orders', 'rows')).keys()]).not.toContain(TODAY.toISOString());
  });

  it('measures only new buckets plus the late window next time, picking up late rows there', async () => {
    let now = T0;
    const { context, statements } = profileContext('late', {
      monitors: [{ assets: 'late.shop.orders', volume: { column: 'created_at', bucket: '1d' } }],
      profiling: { history: '10d', late_window: '2d' },
      now: () => now,
    });
    await profile(context);
    // Late rows: one inside the late window (day -1 seen from tomorrow), one older (day -5).
    await warehouseDb.pool().query(`INSERT INTO shop.orders (created_at, status) VALUES ($1, 'paid'), ($2, 'paid')`, [
      new Date(day(-1).getTime() + 3_600_000),
      new Date(day(-5).getTime() + 3_600_000),
    ]);
    now = new Date(T0.getTime() + DAY);
    statements.length = 0;
    try {
      await profile(context);
    } finally {
      await warehouseDb.pool().query(`DELETE FROM shop.orders WHERE id > (SELECT max(id) - 2 FROM shop.orders)`);
    }
    const rows = await observed('late.shop.orders', 'rows');
    expect(rows.get(iso(-1))).toBe(rowsOnDay(-1) + 1);
    expect(rows.get(iso(-5))).toBe(rowsOnDay(-5));
    // Today became complete (rows up to 06:00 were seeded); tomorrow is still filling.
    expect(rows.get(iso(0))).toBeGreaterThan(0);
    expect(rows.has(iso(1))).toBe(false);
    expect(statements.filter((sql) => sql.includes('"shop"."orders"'))).toHaveLength(1);
  });

  it('replaces a re-measured bucket: a value gone from it leaves no stale top share behind', async () => {
    await createOrdersTable(warehouseDb, 'shrinking');
    await seedDays(warehouseDb, 'shrinking', -3, [30, 30, 30]);
    const { context } = profileContext('shrink', {
      monitors: [{ assets: 'shrink.shop.shrinking', distribution: { column: 'created_at', bucket: '1d', columns: ['status'] } }],
      profiling: { history: '7d', late_window: '2d', top_k: 5 },
      now: () => T0,
    });
    await profile(context);
    expect((await observed('shrink.shop.shrinking', 'top:refunded', 'status')).get(iso(-1))).toBeCloseTo(0.1, 10);
    await warehouseDb.pool().query("DELETE FROM shop.shrinking WHERE status = 'refunded' AND created_at >= $1", [day(-1)]);
    await profile(context);
    const refunded = await observed('shrink.shop.shrinking', 'top:refunded', 'status');
    expect([...refunded.keys()]).toEqual([iso(-3), iso(-2)]);
    expect((await observed('shrink.shop.shrinking', 'top:paid', 'status')).get(iso(-1))).toBeCloseTo(18 / 27, 10);
  });

  it('counts empty buckets as zeros from the first bucket that held rows', async () => {
    const { context } = profileContext('gaps', {
      monitors: [{ assets: 'gaps.shop.gappy', volume: { column: 'created_at', bucket: '1d' } }],
      profiling: { history: '30d' },
      now: () => T0,
    });
    await profile(context);
    expect(Object.fromEntries(await observed('gaps.shop.gappy', 'rows'))).toEqual({
      [iso(-6)]: 30,
      [iso(-5)]: 30,
      [iso(-4)]: 0,
      [iso(-3)]: 0,
      [iso(-2)]: 30,
      [iso(-1)]: 0,
    });
  });

  it('reads a table once per profile for volume and distribution together, storing column metrics, quantiles and top values', async () => {
    const { context, statements } = profileContext('one', {
      monitors: [
        {
          assets: 'one.shop.orders',
          volume: { column: 'created_at', bucket: '1d' },
          distribution: { column: 'created_at', bucket: '1d', columns: ['status', 'amount', 'id'] },
        },
      ],
      profiling: { history: '7d', quantiles: [0.5, 0.9], top_k: 5 },
      now: () => T0,
    });
    const result = await profile(context);
    expect(statements.filter((sql) => sql.includes('"shop"."orders"'))).toHaveLength(1);
    expect(result.profiles).toBe(1);
    expect((await observed('one.shop.orders', 'null_fraction', 'amount')).size).toBe(7);
    expect((await observed('one.shop.orders', 'quantile_0.5', 'amount')).size).toBe(7);
    const paid = await observed('one.shop.orders', 'top:paid', 'status');
    expect(paid.get(iso(-1))).toBeCloseTo(Math.ceil(rowsOnDay(-1) * 0.6) / rowsOnDay(-1), 1);
    // id has hundreds of distinct values a day: no top values kept for it.
    const { rows } = await state.pool().query("SELECT count(*)::int AS n FROM observations WHERE asset = 'one.shop.orders' AND column_name = 'id' AND metric LIKE 'top:%'");
    expect(rows[0].n).toBe(0);
    expect(findingOf(result.findings, 'distribution:one.shop.orders:status').status).toBe('ok');
    expect(findingOf(result.findings, 'volume:one.shop.orders').bucket).toBe(iso(-1));
  });
});
