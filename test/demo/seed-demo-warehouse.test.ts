import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TABLES } from '../../src/demo/demo-schema.ts';
import { DEMO_SHAPE } from '../../src/demo/demo-shape.ts';
import { seedDemoWarehouse, type SeedSummary } from '../../src/demo/seed-demo-warehouse.ts';
import { PipewardenError } from '../../src/errors.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';

// A Friday evening: the last complete day before it is a Thursday.
const NOW = new Date('2025-03-14T18:00:00Z');
const SEED = 424_242;

let database: TestDatabase;
let client: pg.PoolClient;
let summary: SeedSummary;

async function count(sql: string, values: unknown[] = []): Promise<number> {
  const result = await client.query<{ n: string }>(sql, values);
  return Number(result.rows[0]?.n);
}

/** A digest of everything generated, to compare two seedings. */
async function fingerprint(target: pg.ClientBase): Promise<string> {
  const result = await target.query<{ digest: string }>(`
    SELECT md5(
      (SELECT string_agg(concat_ws(',', store_id, name, size_factor, price_factor), ';' ORDER BY store_id) FROM shop.stores) ||
      (SELECT string_agg(concat_ws(',', sku_id, name, base_price, popularity_rank), ';' ORDER BY sku_id) FROM shop.skus) ||
      (SELECT string_agg(concat_ws(',', store_id, sku_id, quantity, price, snapshot_date, extract(epoch FROM loaded_at)), ';'
                         ORDER BY snapshot_date, store_id, sku_id) FROM raw.store_inventory) ||
      (SELECT string_agg(concat_ws(',', store_id, sku_id, quantity, amount, status, extract(epoch FROM ordered_at)), ';'
                         ORDER BY ordered_at, store_id, sku_id, quantity) FROM shop.orders)
    ) AS digest`);
  return result.rows[0]?.digest ?? '';
}

beforeAll(async () => {
  database = await createBlankDatabase();
  client = await database.pool().connect();
  summary = await seedDemoWarehouse(client, { now: NOW, seed: SEED });
});

afterAll(async () => {
  client?.release();
  await database?.drop();
});

describe('seedDemoWarehouse', () => {
  it('creates every demo table and reports what it wrote', async () => {
    for (const table of DEMO_TABLES) {
      const result = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
      expect(result.rows[0]?.present, table).toBe(true);
    }
    expect(summary).toMatchObject({ seeded: true, seed: SEED, days: 30, stores: DEMO_SHAPE.stores, skus: DEMO_SHAPE.skus });
    expect(summary.historyFrom.toISOString()).toBe('2025-02-13T00:00:00.000Z');
    expect(summary.orders).toBe(await count('SELECT count(*) AS n FROM shop.orders'));
    expect(summary.inventoryRows).toBe(await count('SELECT count(*) AS n FROM raw.store_inventory'));
    // Modest enough to seed in a couple of seconds.
    expect(summary.orders + summary.inventoryRows).toBeLessThan(200_000);
    expect(summary.orders).toBeGreaterThan(20_000);
  });

  it('holds thirty days of history ending at now, never loaded in the future', async () => {
    const inventory = await client.query<{ days: string; first: string; last: string }>(
      "SELECT count(DISTINCT snapshot_date) AS days, min(snapshot_date)::text AS first, max(snapshot_date)::text AS last FROM raw.store_inventory",
    );
    expect(inventory.rows[0]).toEqual({ days: '30', first: '2025-02-13', last: '2025-03-14' });
    const orderDays = await count("SELECT count(DISTINCT (ordered_at AT TIME ZONE 'UTC')::date) AS n FROM shop.orders");
    expect(orderDays).toBe(30);
    expect(await count('SELECT count(*) AS n FROM shop.orders WHERE ordered_at < $1 OR ordered_at >= $2', [summary.historyFrom, NOW])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM shop.orders WHERE loaded_at > $1 OR loaded_at < ordered_at', [NOW])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM raw.store_inventory WHERE loaded_at > $1', [NOW])).toBe(0);
    // Today's snapshot is current for every store, so the demo starts healthy.
    expect(await count("SELECT count(DISTINCT store_id) AS n FROM raw.store_inventory WHERE snapshot_date = '2025-03-14' AND loaded_at = $1", [NOW])).toBe(
      DEMO_SHAPE.stores,
    );
  });

  it('has a weekly rhythm: Fridays and Saturdays are much busier than Monday to Thursday', async () => {
    const result = await client.query<{ weekend: number; weekday: number }>(`
      WITH daily AS (
        SELECT (ordered_at AT TIME ZONE 'UTC')::date AS day, count(*) AS orders
        FROM shop.orders WHERE ordered_at < '2025-03-14' GROUP BY 1
      )
      SELECT avg(orders) FILTER (WHERE extract(isodow FROM day) IN (5, 6))::float8 AS weekend,
             avg(orders) FILTER (WHERE extract(isodow FROM day) BETWEEN 1 AND 4)::float8 AS weekday
      FROM daily`);
    const { weekend, weekday } = result.rows[0] as { weekend: number; weekday: number };
    expect(weekend / weekday).toBeGreaterThan(1.4);
    expect(weekend / weekday).toBeLessThan(2.2);
  });

  it('has a daily rhythm: evenings are busier than nights', async () => {
    const result = await client.query<{ evening: string; night: string }>(`
      SELECT count(*) FILTER (WHERE extract(hour FROM ordered_at AT TIME ZONE 'UTC') BETWEEN 17 AND 20) AS evening,
             count(*) FILTER (WHERE extract(hour FROM ordered_at AT TIME ZONE 'UTC') BETWEEN 1 AND 4) AS night
      FROM shop.orders`);
    const row = result.rows[0] as { evening: string; night: string };
    expect(Number(row.evening)).toBeGreaterThan(10 * Number(row.night));
  });

  it('orders only what the store lists, with consistent amounts', async () => {
    expect(
      await count(`SELECT count(*) AS n FROM shop.orders o
                   WHERE NOT EXISTS (SELECT 1 FROM shop.store_assortment a WHERE a.store_id = o.store_id AND a.sku_id = o.sku_id)`),
    ).toBe(0);
    expect(await count('SELECT count(*) AS n FROM shop.orders WHERE amount <= 0 OR quantity NOT BETWEEN 1 AND 3')).toBe(0);
    const statuses = await client.query<{ status: string }>('SELECT DISTINCT status FROM shop.orders ORDER BY status');
    expect(statuses.rows.map((row) => row.status)).toEqual(['cancelled', 'delivered', 'refunded']);
  });

  it('builds top_items_not_carried: per store the best sellers it does not list, priced from other stores', async () => {
    const result = await client.query<{ rows: string; stores: string; priced: string; max_rank: number }>(
      `SELECT count(*) AS rows, count(DISTINCT store_id) AS stores, count(price_elsewhere) AS priced, max(store_rank) AS max_rank
       FROM analytics.top_items_not_carried`,
    );
    expect(result.rows[0]).toEqual({
      rows: String(DEMO_SHAPE.stores * DEMO_SHAPE.itemsPerStore),
      stores: String(DEMO_SHAPE.stores),
      priced: String(DEMO_SHAPE.stores * DEMO_SHAPE.itemsPerStore),
      max_rank: DEMO_SHAPE.itemsPerStore,
    });
    expect(
      await count(`SELECT count(*) AS n FROM analytics.top_items_not_carried t
                   JOIN shop.store_assortment a USING (store_id, sku_id)`),
    ).toBe(0);
    expect(summary.topItemsNotCarried).toBe(DEMO_SHAPE.stores * DEMO_SHAPE.itemsPerStore);
  });

  it('does nothing on a warehouse that already holds the demo, and says so', async () => {
    const before = await fingerprint(client);
    const again = await seedDemoWarehouse(client, { now: new Date('2025-04-01T00:00:00Z'), seed: 7 });
    expect(again).toEqual({ ...summary, seeded: false });
    expect(await fingerprint(client)).toBe(before);
  });

  it('is deterministic for a seed and differs for another', async () => {
    const twin = await createBlankDatabase();
    const other = await createBlankDatabase();
    try {
      const twinClient = await twin.pool().connect();
      const otherClient = await other.pool().connect();
      try {
        await seedDemoWarehouse(twinClient, { now: NOW, seed: SEED });
        await seedDemoWarehouse(otherClient, { now: NOW, seed: SEED + 1, days: 2 });
        expect(await fingerprint(twinClient)).toBe(await fingerprint(client));
        const stores = (target: pg.ClientBase) =>
          target.query('SELECT store_id, name, size_factor FROM shop.stores ORDER BY store_id').then((result) => result.rows);
        expect(await stores(otherClient)).not.toEqual(await stores(client));
      } finally {
        twinClient.release();
        otherClient.release();
      }
    } finally {
      await twin.drop();
      await other.drop();
    }
  });

  it('rejects history lengths and seeds it cannot use', async () => {
    await expect(seedDemoWarehouse(client, { now: NOW, days: 0 })).rejects.toMatchObject({ code: 'demo_invalid_option' });
    await expect(seedDemoWarehouse(client, { now: NOW, seed: 2 ** 40 })).rejects.toBeInstanceOf(PipewardenError);
  });
});
