// Creates the demo marketplace and fills it with history ending at `now`: stores, SKUs, what
// each store lists, daily inventory snapshots, orders with a weekly and daily rhythm, and the
// derived table. Everything is generated in SQL, set-based, from a seed: the same seed and `now`
// give the same warehouse. A warehouse that already holds the demo is left as it is, so
// restarting the demo keeps its data (and any failure in play).

import type pg from 'pg';
import { insertDemoFeeds } from './demo-feeds.ts';
import { insertInventoryHistory } from './demo-inventory.ts';
import { insertDemoOrders } from './demo-orders.ts';
import { createDemoSchema } from './demo-schema.ts';
import { DEFAULT_DEMO_DAYS, DEFAULT_DEMO_SEED, DEMO_SHAPE } from './demo-shape.ts';
import { withDemoTransaction } from './demo-transaction.ts';
import { refreshTopItemsNotCarried } from './top-items-not-carried.ts';
import { PipewardenError } from '../errors.ts';

export interface SeedOptions {
  /** End of the seeded history; also when "today's" inventory counts as loaded. */
  now: Date;
  /** Days of history including today (default 30). */
  days?: number;
  /** PRNG seed (default a fixed number): same seed and `now`, same data. */
  seed?: number;
}

export interface SeedSummary {
  /** False when the warehouse already held the demo: nothing was written. */
  seeded: boolean;
  seed: number;
  days: number;
  /** The `now` of the run that wrote the data (this run, or an earlier one). */
  seededAt: Date;
  /** Start of history: UTC midnight of the first snapshot day. */
  historyFrom: Date;
  stores: number;
  skus: number;
  inventoryRows: number;
  orders: number;
  topItemsNotCarried: number;
}

interface SeedRunRow {
  seeded_at: Date;
  seed: number;
  days: number;
  history_from: Date;
  stores: number;
  skus: number;
  inventory_rows: string;
  orders: string;
  top_items: number;
}

const CITIES = ['Austin', 'Boston', 'Chicago', 'Denver', 'Miami', 'Nashville', 'Portland', 'Seattle'];
const STORE_KINDS = ['Wine & Spirits', 'Liquors', 'Bottle Shop', 'Cellars', 'Beverage Depot'];
// Category with its list-price range; a SKU's category and price come from its seeded draws.
const CATEGORIES = ['wine', 'beer', 'spirits', 'hard seltzer', 'cider', 'sake'];
const CATEGORY_LOW_PRICES = [9, 7, 19, 8, 7, 12];
const CATEGORY_HIGH_PRICES = [45, 22, 89, 18, 16, 40];
const LABELS = ['Red Fox', 'Blue Ridge', 'Old Harbor', 'Golden Hill', 'Stone Creek', 'Silver Oak', 'Wild Meadow', 'North Star'];

const DAY_MS = 86_400_000;

export async function seedDemoWarehouse(client: pg.ClientBase, options: SeedOptions): Promise<SeedSummary> {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const days = options.days ?? DEFAULT_DEMO_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 120) {
    throw new PipewardenError('demo_invalid_option', `Demo history must be 1 to 120 days, got ${days}.`);
  }
  if (!Number.isInteger(seed) || seed < -2_147_483_648 || seed > 2_147_483_647) {
    throw new PipewardenError('demo_invalid_option', `Demo seed must be a 32-bit integer, got ${seed}.`);
  }
  const summary = await withDemoTransaction(client, 'wait', async () => {
    await createDemoSchema(client);
    const existing = await selectSeedRun(client);
    if (existing) return summaryFromRun(existing, false);
    return summaryFromRun(await writeHistory(client, seed, days, options.now), true);
  });
  const result = summary as SeedSummary; // 'wait' always takes the lock, so the work ran
  if (result.seeded) await analyzeDemoTables(client);
  return result;
}

async function writeHistory(client: pg.ClientBase, seed: number, days: number, now: Date): Promise<SeedRunRow> {
  const todayStart = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const historyFrom = new Date(todayStart.getTime() - (days - 1) * DAY_MS);
  const stores = await insertStores(client, seed);
  const skus = await insertSkus(client, seed);
  await insertAssortment(client, seed);
  const inventoryRows = await insertInventoryHistory(client, {
    seed,
    fromDate: isoDate(historyFrom),
    today: isoDate(todayStart),
    now,
  });
  const orders = await insertDemoOrders(client, { seed, from: historyFrom, to: now, now });
  const topItems = await refreshTopItemsNotCarried(client, now);
  await insertDemoFeeds(client, now);
  const run: SeedRunRow = {
    seeded_at: now,
    seed,
    days,
    history_from: historyFrom,
    stores,
    skus,
    inventory_rows: String(inventoryRows),
    orders: String(orders),
    top_items: topItems.rows,
  };
  await insertSeedRun(client, run);
  return run;
}

function isoDate(day: Date): string {
  return day.toISOString().slice(0, 10);
}

function summaryFromRun(run: SeedRunRow, seeded: boolean): SeedSummary {
  return {
    seeded,
    seed: run.seed,
    days: run.days,
    seededAt: run.seeded_at,
    historyFrom: run.history_from,
    stores: run.stores,
    skus: run.skus,
    inventoryRows: Number(run.inventory_rows),
    orders: Number(run.orders),
    topItemsNotCarried: run.top_items,
  };
}

async function selectSeedRun(client: pg.ClientBase): Promise<SeedRunRow | undefined> {
  const result = await client.query<SeedRunRow>(
    `SELECT seeded_at, seed, days, history_from, stores, skus, inventory_rows, orders, top_items
     FROM demo_control.seed_runs`,
  );
  return result.rows[0];
}

/** The seed marker; the loader also reads the seed from here, so live data continues the story. */
export async function selectDemoSeed(client: pg.ClientBase): Promise<number | undefined> {
  const result = await client.query<{ seed: number }>('SELECT seed FROM demo_control.seed_runs');
  return result.rows[0]?.seed;
}

async function insertSeedRun(client: pg.ClientBase, run: SeedRunRow): Promise<void> {
  await client.query(
    `INSERT INTO demo_control.seed_runs (seeded_at, seed, days, history_from, stores, skus, inventory_rows, orders, top_items)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [run.seeded_at, run.seed, run.days, run.history_from, run.stores, run.skus, run.inventory_rows, run.orders, run.top_items],
  );
}

async function insertStores(client: pg.ClientBase, seed: number): Promise<number> {
  const result = await client.query(
    `INSERT INTO shop.stores (store_id, name, city, size_factor, price_factor)
     SELECT i,
            ($3::text[])[1 + (i - 1) % cardinality($3::text[])] || ' ' ||
              ($4::text[])[1 + floor(demo_control.unit_random($1, 'store-kind:' || i) * cardinality($4::text[]))::int] || ' #' || i,
            ($3::text[])[1 + (i - 1) % cardinality($3::text[])],
            0.5 + demo_control.unit_random($1, 'store-size:' || i),
            0.92 + 0.18 * demo_control.unit_random($1, 'store-price:' || i)
     FROM generate_series(1, $2::int) AS i`,
    [seed, DEMO_SHAPE.stores, CITIES, STORE_KINDS],
  );
  return result.rowCount ?? 0;
}

async function insertSkus(client: pg.ClientBase, seed: number): Promise<number> {
  const result = await client.query(
    `INSERT INTO shop.skus (sku_id, name, category, base_price, popularity_rank)
     SELECT i,
            ($6::text[])[1 + floor(demo_control.unit_random($1, 'sku-label:' || i) * cardinality($6::text[]))::int] || ' ' ||
              ($3::text[])[c] || ' No. ' || i,
            ($3::text[])[c],
            round((($4::float8[])[c] + (($5::float8[])[c] - ($4::float8[])[c]) * demo_control.unit_random($1, 'sku-price:' || i))::numeric, 2),
            row_number() OVER (ORDER BY demo_control.unit_random($1, 'sku-rank:' || i), i)
     FROM generate_series(1, $2::int) AS i
     CROSS JOIN LATERAL (SELECT 1 + floor(demo_control.unit_random($1, 'sku-category:' || i) * cardinality($3::text[]))::int AS c) AS category`,
    [seed, DEMO_SHAPE.skus, CATEGORIES, CATEGORY_LOW_PRICES, CATEGORY_HIGH_PRICES, LABELS],
  );
  return result.rowCount ?? 0;
}

// Best sellers are listed almost everywhere, the long tail by a few stores: the carry
// probability falls from carryCeiling toward carryFloor with popularity rank. Each listing's
// share of the store's sales is rank^-popularityExponent, normalized within the store.
async function insertAssortment(client: pg.ClientBase, seed: number): Promise<number> {
  const result = await client.query(
    `INSERT INTO shop.store_assortment (store_id, sku_id, cum_start)
     SELECT store_id, sku_id,
            coalesce(sum(weight) OVER (PARTITION BY store_id ORDER BY popularity_rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
              / sum(weight) OVER (PARTITION BY store_id)
     FROM (
       SELECT s.store_id, k.sku_id, k.popularity_rank, power(k.popularity_rank::float8, -$2::float8) AS weight
       FROM shop.stores s CROSS JOIN shop.skus k
       WHERE demo_control.unit_random($1, 'carry:' || s.store_id || ':' || k.sku_id)
             < $3::float8 + ($4::float8 - $3::float8) * exp(-k.popularity_rank / $5::float8)
     ) AS listed`,
    [seed, DEMO_SHAPE.popularityExponent, DEMO_SHAPE.carryFloor, DEMO_SHAPE.carryCeiling, DEMO_SHAPE.carryRankScale],
  );
  return result.rowCount ?? 0;
}

// Fresh statistics so the first sweep sees real row estimates, not "never analyzed".
async function analyzeDemoTables(client: pg.ClientBase): Promise<void> {
  await client.query('ANALYZE shop.stores, shop.skus, shop.store_assortment, shop.orders, raw.store_inventory, analytics.top_items_not_carried');
}
