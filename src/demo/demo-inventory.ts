// The inventory team's feed: one snapshot per store and day of what the store lists, with
// quantity on hand and shelf price. History lands at about 06:00 UTC each day; in demo time the
// loader reloads today's snapshot of a few stores every tick (the least recently loaded first),
// so the feed's newest loaded_at keeps moving while it works and stops the moment it breaks.

import type pg from 'pg';

// Shared by history and live loads so both describe the same stock: ~5% of listings out of
// stock, otherwise 1–48 on hand; price = list price × store factor × a ±2% daily wobble.
const SNAPSHOT_COLUMNS = `
  a.store_id,
  a.sku_id,
  CASE WHEN demo_control.unit_random($1, concat_ws(':', 'stock', a.store_id, a.sku_id, day_number, version)) < 0.05 THEN 0
       ELSE 1 + floor(47 * demo_control.unit_random($1, concat_ws(':', 'qty', a.store_id, a.sku_id, day_number, version)))::int END AS quantity,
  round(k.base_price * (s.price_factor * (0.98 + 0.04 * demo_control.unit_random($1, concat_ws(':', 'price', a.store_id, a.sku_id, day_number))))::numeric, 2) AS price`;

const INSERT_INVENTORY_HISTORY = `
INSERT INTO raw.store_inventory (store_id, sku_id, quantity, price, snapshot_date, loaded_at)
SELECT snapshot.store_id, snapshot.sku_id, snapshot.quantity, snapshot.price, snapshot.snapshot_date, snapshot.loaded_at
FROM (
  SELECT ${SNAPSHOT_COLUMNS},
         d.snapshot_date,
         CASE WHEN d.snapshot_date = $3::date THEN $4::timestamptz
              ELSE d.snapshot_date + interval '6 hours' + a.store_id * interval '47 seconds' END AS loaded_at
  FROM (
    SELECT day::date AS snapshot_date, (day::date - date '2000-01-01') AS day_number, 0 AS version
    FROM generate_series($2::date, $3::date, interval '1 day') AS day
  ) AS d
  CROSS JOIN shop.store_assortment a
  JOIN shop.stores s USING (store_id)
  JOIN shop.skus k USING (sku_id)
) AS snapshot
ORDER BY snapshot.snapshot_date, snapshot.store_id, snapshot.sku_id`;

/**
 * Daily snapshots from `fromDate` to `today` (UTC dates, inclusive). Today's snapshot is marked
 * loaded at `now`: the demo feed is continuous, so today's data is current when the demo starts.
 */
export async function insertInventoryHistory(
  client: pg.ClientBase,
  options: { seed: number; fromDate: string; today: string; now: Date },
): Promise<number> {
  const result = await client.query(INSERT_INVENTORY_HISTORY, [options.seed, options.fromDate, options.today, options.now]);
  return result.rowCount ?? 0;
}

// The stores whose snapshot for `today` was loaded longest ago (never first), in the old table or
// the migrated one. Two fixed statements: the table and its column names are never spliced in.
const STALEST_STORES = {
  'raw.store_inventory': 'SELECT max(i.loaded_at) FROM raw.store_inventory i WHERE i.snapshot_date = $1::date AND i.store_id = s.store_id',
  'raw.store_inventory_v2': 'SELECT max(i.ingested_at) FROM raw.store_inventory_v2 i WHERE i.as_of_date = $1::date AND i.location_id = s.store_id',
} as const;

export type InventoryTable = keyof typeof STALEST_STORES;

/** The `limit` stores the feed reloads next in `table`: those whose snapshot for `today` is stalest. */
export async function selectStalestStores(client: pg.ClientBase, table: InventoryTable, today: string, limit: number): Promise<number[]> {
  const result = await client.query<{ store_id: number }>(
    `SELECT s.store_id
     FROM shop.stores s
     LEFT JOIN LATERAL (${STALEST_STORES[table]}) AS latest(loaded_at) ON true
     ORDER BY latest.loaded_at ASC NULLS FIRST, s.store_id
     LIMIT $2`,
    [today, limit],
  );
  return result.rows.map((row) => row.store_id);
}

export interface SnapshotLoad {
  seed: number;
  stores: readonly number[];
  today: string;
  now: Date;
}

// Quantities change from load to load (version = the load's epoch milliseconds); prices only by day.
const LIVE_SNAPSHOT = `
  SELECT ${SNAPSHOT_COLUMNS}
  FROM (SELECT ($3::date - date '2000-01-01') AS day_number, floor(extract(epoch FROM $4::timestamptz) * 1000)::bigint AS version) AS d
  CROSS JOIN shop.store_assortment a
  JOIN shop.stores s USING (store_id)
  JOIN shop.skus k USING (sku_id)
  WHERE a.store_id = ANY($2::int[])`;

/** Upserts today's snapshot of the given stores into raw.store_inventory, loaded now. */
export async function loadInventorySnapshot(client: pg.ClientBase, load: SnapshotLoad): Promise<number> {
  const result = await client.query(
    `INSERT INTO raw.store_inventory (store_id, sku_id, quantity, price, snapshot_date, loaded_at)
     SELECT live.store_id, live.sku_id, live.quantity, live.price, $3::date, $4::timestamptz
     FROM (${LIVE_SNAPSHOT}) AS live
     ON CONFLICT (snapshot_date, store_id, sku_id) DO UPDATE
       SET quantity = excluded.quantity, price = excluded.price, loaded_at = excluded.loaded_at`,
    [load.seed, load.stores, load.today, load.now],
  );
  return result.rowCount ?? 0;
}

/** The same load, as the migrated feed writes it: into raw.store_inventory_v2 with its new names. */
export async function loadInventorySnapshotV2(client: pg.ClientBase, load: SnapshotLoad): Promise<number> {
  const result = await client.query(
    `INSERT INTO raw.store_inventory_v2 (location_id, product_id, on_hand, unit_price, as_of_date, ingested_at)
     SELECT live.store_id, live.sku_id, live.quantity, live.price, $3::date, $4::timestamptz
     FROM (${LIVE_SNAPSHOT}) AS live
     ON CONFLICT (as_of_date, location_id, product_id) DO UPDATE
       SET on_hand = excluded.on_hand, unit_price = excluded.unit_price, ingested_at = excluded.ingested_at`,
    [load.seed, load.stores, load.today, load.now],
  );
  return result.rowCount ?? 0;
}

/**
 * The repair's backfill: what the migrated feed delivered during the incident, copied back under
 * the old names. Older rows never overwrite newer ones.
 */
export async function backfillInventoryFromV2(client: pg.ClientBase): Promise<number> {
  const result = await client.query(
    `INSERT INTO raw.store_inventory (store_id, sku_id, quantity, price, snapshot_date, loaded_at)
     SELECT location_id, product_id, on_hand, unit_price, as_of_date, ingested_at
     FROM raw.store_inventory_v2
     ON CONFLICT (snapshot_date, store_id, sku_id) DO UPDATE
       SET quantity = excluded.quantity, price = excluded.price, loaded_at = excluded.loaded_at
       WHERE excluded.loaded_at > raw.store_inventory.loaded_at`,
  );
  return result.rowCount ?? 0;
}

/**
 * The break's view of the past: the loads the feed made after `since` went to the migrated
 * table instead. They are copied into raw.store_inventory_v2 under its names, and in the old
 * table those rows are marked loaded at `since`, as if that had been the feed's last load there.
 */
export async function divertInventoryLoadsToV2(client: pg.ClientBase, since: Date): Promise<number> {
  await client.query(
    `INSERT INTO raw.store_inventory_v2 (location_id, product_id, on_hand, unit_price, as_of_date, ingested_at)
     SELECT store_id, sku_id, quantity, price, snapshot_date, loaded_at
     FROM raw.store_inventory WHERE loaded_at > $1::timestamptz
     ON CONFLICT (as_of_date, location_id, product_id) DO NOTHING`,
    [since],
  );
  const result = await client.query('UPDATE raw.store_inventory SET loaded_at = $1::timestamptz WHERE loaded_at > $1::timestamptz', [since]);
  return result.rowCount ?? 0;
}
