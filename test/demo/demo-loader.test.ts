import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoLoader, type TickSummary } from '../../src/demo/demo-loader.ts';
import { breakDemoFeed, repairDemoFeed } from '../../src/demo/demo-feeds.ts';
import { DEMO_LOCK_KEY } from '../../src/demo/demo-schema.ts';
import { DEMO_SHAPE, DEMO_TIMING } from '../../src/demo/demo-shape.ts';
import { seedDemoWarehouse } from '../../src/demo/seed-demo-warehouse.ts';
import { TOP_ITEMS_VERSIONS_KEPT } from '../../src/demo/top-items-not-carried.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';

const START = new Date('2025-03-14T18:00:00Z');
const MINUTE = 60_000;
const FULL_TABLE = DEMO_SHAPE.stores * DEMO_SHAPE.itemsPerStore;

let database: TestDatabase;
let pool: pg.Pool;
let clock: Date;
let loader: DemoLoader;

function advance(ms: number): Date {
  clock = new Date(clock.getTime() + ms);
  return clock;
}

async function tickAfter(ms: number): Promise<TickSummary> {
  advance(ms);
  return loader.tick();
}

async function maxLoadedAt(table: 'raw.store_inventory' | 'shop.orders'): Promise<number> {
  // Two fixed statements rather than one with a spliced name: identifiers never come from variables.
  const sql =
    table === 'raw.store_inventory' ? 'SELECT max(loaded_at) AS at FROM raw.store_inventory' : 'SELECT max(loaded_at) AS at FROM shop.orders';
  const result = await pool.query<{ at: Date }>(sql);
  return (result.rows[0]?.at as Date).getTime();
}

async function topItems(): Promise<{ rows: number; priced: number }> {
  const result = await pool.query<{ rows: string; priced: string }>(
    'SELECT count(*) AS rows, count(price_elsewhere) AS priced FROM analytics.top_items_not_carried',
  );
  const row = result.rows[0] as { rows: string; priced: string };
  return { rows: Number(row.rows), priced: Number(row.priced) };
}

async function tableExists(name: string): Promise<boolean> {
  const result = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
  return result.rows[0]?.present === true;
}

async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  database = await createBlankDatabase();
  pool = database.pool();
  clock = START;
  // Eight days: the derived table looks back seven.
  await withClient((client) => seedDemoWarehouse(client, { now: START, days: 8 }));
  loader = new DemoLoader({ pool, logger: testLogger(), now: () => clock });
});

afterAll(async () => {
  await database?.drop();
});

describe('DemoLoader', () => {
  it('adds the orders placed since the last tick, loaded at the tick', async () => {
    const ordersBefore = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM shop.orders')).rows[0]?.n);
    const summary = await tickAfter(5 * MINUTE);
    expect(summary.skipped).toBe(false);
    expect(summary.orders).toBeGreaterThan(0);
    const after = await pool.query<{ n: string; earliest: Date }>(
      'SELECT count(*) AS n, min(ordered_at) AS earliest FROM shop.orders WHERE loaded_at = $1',
      [clock],
    );
    expect(Number(after.rows[0]?.n)).toBe(summary.orders);
    expect((after.rows[0]?.earliest as Date).getTime()).toBeGreaterThanOrEqual(START.getTime());
    const ordersAfter = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM shop.orders')).rows[0]?.n);
    expect(ordersAfter - ordersBefore).toBe(summary.orders);
    expect(await maxLoadedAt('shop.orders')).toBe(clock.getTime());
  });

  it('plays the inventory feed: each tick reloads the least recently loaded stores, all within a few ticks', async () => {
    const firstTickAt = clock.getTime();
    const loaded = new Set<number>();
    for (let tick = 0; tick < DEMO_SHAPE.stores / DEMO_TIMING.storesPerTick; tick++) {
      const summary = await tickAfter(15_000);
      expect(summary.inventory?.table).toBe('raw.store_inventory');
      expect(summary.inventory?.stores).toHaveLength(DEMO_TIMING.storesPerTick);
      expect(summary.inventory?.rows).toBeGreaterThan(0);
      for (const store of summary.inventory?.stores ?? []) loaded.add(store);
      expect(await maxLoadedAt('raw.store_inventory')).toBe(clock.getTime());
    }
    expect(loaded.size).toBe(DEMO_SHAPE.stores);
    const fresh = await pool.query<{ n: string }>(
      "SELECT count(DISTINCT store_id) AS n FROM raw.store_inventory WHERE snapshot_date = '2025-03-14' AND loaded_at > $1",
      [new Date(firstTickAt)],
    );
    expect(Number(fresh.rows[0]?.n)).toBe(DEMO_SHAPE.stores);
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: FULL_TABLE });
  });

  it('after the inventory feed breaks: the old table stops, prices go NULL, then the derived table collapses', async () => {
    const brokenAt = advance(5_000);
    const change = await withClient((client) => breakDemoFeed(client, 'inventory-feed', brokenAt));
    expect(change).toEqual({ feed: 'inventory-feed', previousState: 'ok', state: 'broken', changedAt: brokenAt });
    expect(await tableExists('raw.store_inventory_v2')).toBe(true);
    const frozenAt = await maxLoadedAt('raw.store_inventory');

    for (let tick = 0; tick < 3; tick++) {
      const summary = await tickAfter(15_000);
      expect(summary.feeds['inventory-feed']).toBe('broken');
      expect(summary.inventory?.table).toBe('raw.store_inventory_v2');
      expect(summary.orders).toBeGreaterThanOrEqual(0);
      expect(await maxLoadedAt('raw.store_inventory')).toBe(frozenAt);
    }
    const v2 = await pool.query<{ n: string }>('SELECT count(*) AS n FROM raw.store_inventory_v2');
    expect(Number(v2.rows[0]?.n)).toBeGreaterThan(0);

    // Past the price window: every price is stale, the rows are still there.
    clock = new Date(frozenAt + DEMO_TIMING.priceCurrentMs + 30_000);
    const blanked = await loader.tick();
    expect(blanked.topItemsNotCarried).toBe(FULL_TABLE);
    expect(blanked.topItemsWithoutPrice).toBe(FULL_TABLE);
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: 0 });

    // Past the assortment window: no store has a current snapshot, the table empties.
    clock = new Date(frozenAt + DEMO_TIMING.assortmentCurrentMs + 30_000);
    const collapsed = await loader.tick();
    expect(collapsed.topItemsNotCarried).toBe(0);
    expect(await topItems()).toEqual({ rows: 0, priced: 0 });
    expect(await maxLoadedAt('raw.store_inventory')).toBe(frozenAt);
    expect(await maxLoadedAt('shop.orders')).toBe(clock.getTime());
  });

  it('repair backfills the old table from v2 and the derived table recovers on the next tick', async () => {
    // The demo keeps running broken for a minute: the migrated feed reloads every store into v2.
    for (let tick = 0; tick < DEMO_SHAPE.stores / DEMO_TIMING.storesPerTick; tick++) {
      const summary = await tickAfter(15_000);
      expect(summary.inventory?.table).toBe('raw.store_inventory_v2');
      expect(summary.topItemsNotCarried).toBe(0);
    }
    const repairedAt = advance(5_000);
    const change = await withClient((client) => repairDemoFeed(client, 'inventory-feed', repairedAt));
    expect(change).toMatchObject({ feed: 'inventory-feed', previousState: 'broken', state: 'ok', changedAt: repairedAt });
    expect(change.backfilledRows).toBeGreaterThan(0);
    expect(await tableExists('raw.store_inventory_v2')).toBe(false);

    const summary = await tickAfter(10_000);
    expect(summary.feeds['inventory-feed']).toBe('ok');
    expect(summary.inventory?.table).toBe('raw.store_inventory');
    expect(await maxLoadedAt('raw.store_inventory')).toBe(clock.getTime());
    // The v2 loads were recent, so with the backfill every store is current again.
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: FULL_TABLE });
  });

  it('publishes every refresh as a swap, keeping the last 20 versions; a paused refresh publishes nothing until the inventory repair resumes it', async () => {
    for (let tick = 0; tick < TOP_ITEMS_VERSIONS_KEPT + 2; tick++) await tickAfter(15_000);
    const versions = await pool.query<{ name: string }>(
      "SELECT relname AS name FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind = 'r' AND relname LIKE 'top\\_items\\_not\\_carried\\_\\_pw\\_v%' ORDER BY relname",
    );
    expect(versions.rows).toHaveLength(TOP_ITEMS_VERSIONS_KEPT);
    expect(await tableExists('analytics.top_items_not_carried__staging')).toBe(false);
    const refreshedAt = async () => (await pool.query<{ at: Date }>('SELECT max(refreshed_at) AS at FROM analytics.top_items_not_carried')).rows[0]?.at.getTime();
    expect(await refreshedAt()).toBe(clock.getTime());

    const pausedAt = clock.getTime();
    await pool.query("UPDATE demo_control.jobs SET paused = true WHERE job = 'top-items-refresh'");
    expect((await tickAfter(15_000)).topItemsNotCarried).toBe(0);
    expect(await refreshedAt()).toBe(pausedAt);
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: FULL_TABLE });

    await withClient((client) => repairDemoFeed(client, 'inventory-feed', advance(1_000)));
    expect((await tickAfter(15_000)).topItemsNotCarried).toBe(FULL_TABLE);
    expect(await refreshedAt()).toBe(clock.getTime());
  });

  it('a broken orders feed stops orders; repair back-fills the gap as late data', async () => {
    const brokenAt = advance(1_000);
    await withClient((client) => breakDemoFeed(client, 'orders-feed', brokenAt));
    const frozenAt = await maxLoadedAt('shop.orders');
    for (let tick = 0; tick < 2; tick++) {
      const summary = await tickAfter(10 * MINUTE);
      expect(summary.orders).toBe(0);
      expect(summary.inventory?.table).toBe('raw.store_inventory');
    }
    expect(await maxLoadedAt('shop.orders')).toBe(frozenAt);

    await withClient((client) => repairDemoFeed(client, 'orders-feed', clock));
    const summary = await tickAfter(15_000);
    expect(summary.orders).toBeGreaterThan(0);
    const gap = await pool.query<{ n: string }>('SELECT count(*) AS n FROM shop.orders WHERE ordered_at < $1 AND loaded_at = $2', [
      new Date(clock.getTime() - 10 * MINUTE),
      clock,
    ]);
    expect(Number(gap.rows[0]?.n)).toBeGreaterThan(0);
  });

  it('breaking twice changes nothing and says so', async () => {
    const first = await withClient((client) => breakDemoFeed(client, 'orders-feed', advance(1_000)));
    const second = await withClient((client) => breakDemoFeed(client, 'orders-feed', advance(1_000)));
    expect(second).toEqual({ feed: 'orders-feed', previousState: 'broken', state: 'broken', changedAt: first.changedAt });
    await withClient((client) => repairDemoFeed(client, 'orders-feed', clock));
  });

  it('a break that began 10 minutes ago leaves the warehouse as the incident would have: stale feed, empty derived table', async () => {
    for (let tick = 0; tick < 40; tick++) await tickAfter(15_000); // ten minutes of a healthy feed
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: FULL_TABLE });
    const now = advance(5_000);
    const since = new Date(now.getTime() - 10 * MINUTE);
    const rowsLoadedSince = Number(
      (await pool.query<{ n: string }>('SELECT count(*) AS n FROM raw.store_inventory WHERE loaded_at > $1', [since])).rows[0]?.n,
    );
    expect(rowsLoadedSince).toBeGreaterThan(0);

    const change = await withClient((client) => breakDemoFeed(client, 'inventory-feed', now, { agoMs: 10 * MINUTE }));
    expect(change).toEqual({ feed: 'inventory-feed', previousState: 'ok', state: 'broken', changedAt: since });
    // What the feed loaded since then is in v2; the old table last moved at `since`.
    expect(await maxLoadedAt('raw.store_inventory')).toBe(since.getTime());
    const diverted = await pool.query<{ n: string }>('SELECT count(*) AS n FROM raw.store_inventory_v2 WHERE ingested_at > $1', [since]);
    expect(Number(diverted.rows[0]?.n)).toBe(rowsLoadedSince);

    // The very next tick rebuilds the derived table from a feed nobody has loaded for 10 minutes.
    const summary = await tickAfter(15_000);
    expect(summary.inventory?.table).toBe('raw.store_inventory_v2');
    expect(summary.topItemsNotCarried).toBe(0);

    await withClient((client) => repairDemoFeed(client, 'inventory-feed', advance(1_000)));
    expect(await maxLoadedAt('raw.store_inventory')).toBeGreaterThan(since.getTime());
    await tickAfter(15_000);
    expect(await topItems()).toEqual({ rows: FULL_TABLE, priced: FULL_TABLE });
  });

  it('an orders break that began earlier unloads those orders; repair back-fills them without gaps or doubles', async () => {
    await tickAfter(15_000);
    const now = advance(5_000);
    const since = new Date(now.getTime() - 3 * MINUTE);
    await withClient((client) => breakDemoFeed(client, 'orders-feed', now, { agoMs: 3 * MINUTE }));
    expect(await maxLoadedAt('shop.orders')).toBeLessThanOrEqual(since.getTime());
    const watermark = (await pool.query<{ at: Date }>("SELECT watermark AS at FROM demo_control.feeds WHERE feed = 'orders-feed'")).rows[0]?.at;
    expect(watermark?.getTime()).toBeLessThanOrEqual(since.getTime());
    const placedAfterWatermark = await pool.query<{ n: string }>('SELECT count(*) AS n FROM shop.orders WHERE ordered_at >= $1', [watermark]);
    expect(Number(placedAfterWatermark.rows[0]?.n)).toBe(0);

    await withClient((client) => repairDemoFeed(client, 'orders-feed', now));
    const summary = await tickAfter(15_000);
    expect(summary.orders).toBeGreaterThan(0);
    const backfilled = await pool.query<{ earliest: Date; loaded: Date }>(
      'SELECT min(ordered_at) AS earliest, max(loaded_at) AS loaded FROM shop.orders WHERE ordered_at >= $1',
      [watermark],
    );
    expect(backfilled.rows[0]?.earliest.getTime()).toBeLessThan((watermark as Date).getTime() + MINUTE);
    expect(backfilled.rows[0]?.loaded.getTime()).toBe(clock.getTime());
    const loadedBeforeRepair = await pool.query<{ n: string }>('SELECT count(*) AS n FROM shop.orders WHERE ordered_at >= $1 AND loaded_at < $2', [
      watermark,
      clock,
    ]);
    expect(Number(loadedBeforeRepair.rows[0]?.n)).toBe(0);
  });

  it('refuses a failure that begins in the future', async () => {
    await expect(withClient((client) => breakDemoFeed(client, 'orders-feed', clock, { agoMs: -MINUTE }))).rejects.toMatchObject({
      code: 'demo_invalid_ago',
    });
  });

  it('skips a tick while another process holds the demo lock', async () => {
    await withClient(async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [DEMO_LOCK_KEY]);
      try {
        const summary = await tickAfter(15_000);
        expect(summary).toMatchObject({ skipped: true, orders: 0, inventory: null });
      } finally {
        await client.query('ROLLBACK');
      }
    });
    expect((await tickAfter(15_000)).skipped).toBe(false);
  });

  it('rejects unknown failure names, listing the valid ones, without touching the warehouse', async () => {
    const hostile = "inventory-feed'; DROP TABLE shop.orders; --";
    await expect(withClient((client) => breakDemoFeed(client, hostile, clock))).rejects.toThrow(
      /Unknown demo failure .*\n {2}inventory-feed: .*\n {2}orders-feed: /,
    );
    await expect(withClient((client) => repairDemoFeed(client, 'pricing-feed', clock))).rejects.toMatchObject({ code: 'demo_unknown_failure' });
    expect(await tableExists('shop.orders')).toBe(true);
    const feeds = await pool.query<{ feed: string; state: string }>('SELECT feed, state FROM demo_control.feeds ORDER BY feed');
    expect(feeds.rows).toEqual([
      { feed: 'inventory-feed', state: 'ok' },
      { feed: 'orders-feed', state: 'ok' },
    ]);
  });
});

describe('DemoLoader loop', () => {
  it('runs ticks on its own until stopped', async () => {
    let loopClock = clock.getTime();
    const looping = new DemoLoader({
      pool,
      logger: testLogger(),
      now: () => new Date((loopClock += 15_000)),
      intervalMs: 10,
    });
    const watermark = async () =>
      (await pool.query<{ at: Date }>("SELECT watermark AS at FROM demo_control.feeds WHERE feed = 'orders-feed'")).rows[0]?.at.getTime();
    const before = await watermark();
    looping.start();
    looping.start(); // idempotent
    await expect.poll(watermark, { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual((before ?? 0) + 3 * 15_000);
    await looping.stop();
    const stoppedAt = await watermark();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await watermark()).toBe(stoppedAt);
    clock = new Date(loopClock);
  });

  it('never lets an error escape: logs, counts and retries against a warehouse without the demo', async () => {
    const blank = await createBlankDatabase();
    const metrics = createMetrics({ processMetrics: false });
    const loopErrors = async () =>
      (await metrics.loopErrors.get()).values.find((value) => value.labels.loop === 'demo-loader')?.value ?? 0;
    const looping = new DemoLoader({ pool: blank.pool(), logger: testLogger(), now: () => START, intervalMs: 5, metrics });
    try {
      await expect(looping.tick()).rejects.toMatchObject({ code: 'demo_not_seeded' });
      looping.start();
      await expect.poll(loopErrors, { timeout: 10_000, interval: 10 }).toBeGreaterThanOrEqual(3);
    } finally {
      await looping.stop();
      await blank.drop();
    }
  });

  it('breaking a warehouse without the demo says to start the demo first', async () => {
    const blank = await createBlankDatabase();
    try {
      const client = await blank.pool().connect();
      try {
        await expect(breakDemoFeed(client, 'inventory-feed', START)).rejects.toMatchObject({ code: 'demo_not_seeded' });
      } finally {
        client.release();
      }
    } finally {
      await blank.drop();
    }
  });
});
