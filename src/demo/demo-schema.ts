// The demo warehouse's tables. The demo owns this schema, so every identifier is fixed here and
// statements elsewhere name tables directly; only values travel as parameters.
//
//   shop.stores, shop.skus          the marketplace's master data
//   shop.store_assortment           what each store lists (the source the inventory feed snapshots)
//   raw.store_inventory             the inventory team's daily feed, one snapshot per store and day
//   shop.orders                     orders, loaded a few minutes after they are placed
//   analytics.top_items_not_carried per store, the marketplace's best sellers it does not carry
//                                   (read by account managers, a CRM campaign and the retailer app)
//   raw.store_inventory_v2          appears only when the inventory team "migrates" (a demo failure)
//   demo_control.*                  the demo's own bookkeeping: seed marker and feed switches

import type pg from 'pg';

/**
 * Every demo transaction that writes (seed, loader tick, break, repair) takes this
 * transaction-scoped advisory lock first, so a break from another terminal waits for the running
 * tick instead of racing it. The value is arbitrary; it only has to be the same everywhere.
 */
export const DEMO_LOCK_KEY = 7_070_105_119;

export const DEMO_TABLES = [
  'shop.stores',
  'shop.skus',
  'shop.store_assortment',
  'shop.orders',
  'raw.store_inventory',
  'analytics.top_items_not_carried',
  'demo_control.seed_runs',
  'demo_control.feeds',
] as const;

// IF NOT EXISTS throughout: creating is idempotent, and the seed marker (not the tables'
// existence) decides whether data still has to be written.
const DEMO_DDL = `
CREATE SCHEMA IF NOT EXISTS shop;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS demo_control;

-- A uniform number in [0, 1) from a seed and a key: deterministic, independent of plan and row
-- order (unlike setseed()/random()), and cheap enough for set-based seeding. hashtextextended is
-- the hash behind hash partitioning, which Postgres keeps stable across versions.
CREATE OR REPLACE FUNCTION demo_control.unit_random(seed integer, key text) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (hashtextextended(key, seed) & 4503599627370495)::float8 / 4503599627370496.0 $$;

CREATE TABLE IF NOT EXISTS shop.stores (
  store_id      integer PRIMARY KEY,
  name          text NOT NULL,
  city          text NOT NULL,
  size_factor   double precision NOT NULL,
  price_factor  double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.skus (
  sku_id           integer PRIMARY KEY,
  name             text NOT NULL,
  category         text NOT NULL,
  base_price       numeric(10,2) NOT NULL,
  popularity_rank  integer NOT NULL UNIQUE
);

-- cum_start: where this SKU's share of the store's sales begins on [0, 1); an order draws u and
-- takes the SKU with the greatest cum_start <= u (the first starts at exactly 0, so one always matches).
CREATE TABLE IF NOT EXISTS shop.store_assortment (
  store_id   integer NOT NULL REFERENCES shop.stores,
  sku_id     integer NOT NULL REFERENCES shop.skus,
  cum_start  double precision NOT NULL,
  PRIMARY KEY (store_id, sku_id)
);
CREATE INDEX IF NOT EXISTS store_assortment_pick_idx ON shop.store_assortment (store_id, cum_start);

CREATE TABLE IF NOT EXISTS raw.store_inventory (
  store_id       integer NOT NULL,
  sku_id         integer NOT NULL,
  quantity       integer NOT NULL,
  price          numeric(10,2) NOT NULL,
  snapshot_date  date NOT NULL,
  loaded_at      timestamptz NOT NULL,
  PRIMARY KEY (snapshot_date, store_id, sku_id)
);
CREATE INDEX IF NOT EXISTS store_inventory_loaded_at_idx ON raw.store_inventory (loaded_at);

CREATE TABLE IF NOT EXISTS shop.orders (
  order_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  store_id    integer NOT NULL,
  sku_id      integer NOT NULL,
  quantity    integer NOT NULL,
  amount      numeric(12,2) NOT NULL,
  status      text NOT NULL,
  ordered_at  timestamptz NOT NULL,
  loaded_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_ordered_at_idx ON shop.orders (ordered_at);
CREATE INDEX IF NOT EXISTS orders_loaded_at_idx ON shop.orders (loaded_at);

CREATE TABLE IF NOT EXISTS analytics.top_items_not_carried (
  store_id          integer NOT NULL,
  sku_id            integer NOT NULL,
  store_rank        integer NOT NULL,
  marketplace_rank  integer NOT NULL,
  units_7d          integer NOT NULL,
  stores_carrying   integer NOT NULL,
  price_elsewhere   numeric(10,2),
  refreshed_at      timestamptz NOT NULL,
  PRIMARY KEY (store_id, sku_id)
);

CREATE TABLE IF NOT EXISTS demo_control.seed_runs (
  singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seeded_at        timestamptz NOT NULL,
  seed             integer NOT NULL,
  days             integer NOT NULL,
  history_from     timestamptz NOT NULL,
  stores           integer NOT NULL,
  skus             integer NOT NULL,
  inventory_rows   bigint NOT NULL,
  orders           bigint NOT NULL,
  top_items        integer NOT NULL
);

-- Jobs a runbook may pause: the analytics team's refresh of top_items_not_carried, paused by
-- the rollback runbook so it does not publish bad data again over the restored version.
CREATE TABLE IF NOT EXISTS demo_control.jobs (
  job         text PRIMARY KEY,
  paused      boolean NOT NULL DEFAULT false,
  changed_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO demo_control.jobs (job) VALUES ('top-items-refresh') ON CONFLICT (job) DO NOTHING;

-- One row per feed the demo plays. watermark: the time up to which the feed has delivered.
CREATE TABLE IF NOT EXISTS demo_control.feeds (
  feed        text PRIMARY KEY,
  state       text NOT NULL CHECK (state IN ('ok', 'broken')),
  changed_at  timestamptz NOT NULL,
  watermark   timestamptz NOT NULL
);
`;

/** Creates the demo's schemas, tables and helper function when missing. */
export async function createDemoSchema(client: pg.ClientBase): Promise<void> {
  await client.query(DEMO_DDL);
}

/**
 * The inventory team's migrated table: same data, renamed columns. It exists only while the
 * `inventory-feed` failure is in play.
 */
export async function createInventoryV2Table(client: pg.ClientBase): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS raw.store_inventory_v2 (
      location_id  integer NOT NULL,
      product_id   integer NOT NULL,
      on_hand      integer NOT NULL,
      unit_price   numeric(10,2) NOT NULL,
      as_of_date   date NOT NULL,
      ingested_at  timestamptz NOT NULL,
      PRIMARY KEY (as_of_date, location_id, product_id)
    )`);
}

export async function dropInventoryV2Table(client: pg.ClientBase): Promise<void> {
  await client.query('DROP TABLE IF EXISTS raw.store_inventory_v2');
}

export async function inventoryV2TableExists(client: pg.ClientBase): Promise<boolean> {
  const result = await client.query<{ present: boolean }>("SELECT to_regclass('raw.store_inventory_v2') IS NOT NULL AS present");
  return result.rows[0]?.present === true;
}

/** Whether the control tables exist at all, i.e. the demo was ever set up in this database. */
export async function demoControlExists(client: pg.ClientBase): Promise<boolean> {
  const result = await client.query<{ present: boolean }>(
    "SELECT to_regclass('demo_control.feeds') IS NOT NULL AND to_regclass('demo_control.seed_runs') IS NOT NULL AS present",
  );
  return result.rows[0]?.present === true;
}
