// Orders for a time window, generated set-based in one statement: per store and UTC hour an
// expected count from the store's size, the weekday, the hour and a per-day noise, rounded
// stochastically; then each order gets a time in the window, a SKU drawn by popularity from what
// the store lists, a quantity and a status. The seed calls it for thirty days, the loader for the
// seconds since its last tick — the same shape either way.

import type pg from 'pg';
import { DEMO_SHAPE, HOUR_SHARES, WEEKDAY_FACTORS } from './demo-shape.ts';

export interface OrderWindow {
  seed: number;
  /** Orders are placed in [from, to). */
  from: Date;
  to: Date;
  /** Nothing is loaded after this moment (the seed's end of history, the loader's tick). */
  now: Date;
  /**
   * When the orders were loaded. Omitted: a few minutes after each was placed (history). The
   * loader passes its tick time, since that is when these rows really arrive.
   */
  loadedAt?: Date;
}

const INSERT_ORDERS = `
WITH slots AS (
  SELECT s.store_id, s.size_factor, s.price_factor, h,
         greatest(h, $2::timestamptz) AS lo,
         least(h + interval '1 hour', $3::timestamptz) AS hi
  FROM shop.stores s
  CROSS JOIN generate_series(date_trunc('hour', $2::timestamptz), $3::timestamptz, interval '1 hour') AS h
),
expected AS (
  SELECT store_id, price_factor, lo, hi,
         floor(extract(epoch FROM lo) * 1000)::bigint AS lo_ms,
         $4::float8 * size_factor
           * ($5::float8[])[extract(isodow FROM h)::int]
           * ($6::float8[])[extract(hour FROM h)::int + 1]
           * extract(epoch FROM hi - lo) / 3600.0
           * (0.85 + 0.3 * demo_control.unit_random($1, concat_ws(':', 'day', store_id, floor(extract(epoch FROM h) / 86400)))) AS orders
  FROM slots
  WHERE hi > lo
),
counted AS (
  SELECT *, floor(orders + demo_control.unit_random($1, concat_ws(':', 'n', store_id, lo_ms)))::int AS n
  FROM expected
),
drawn AS (
  SELECT c.store_id, c.price_factor,
         c.lo + (c.hi - c.lo) * demo_control.unit_random($1, concat_ws(':', 't', c.store_id, c.lo_ms, i)) AS ordered_at,
         demo_control.unit_random($1, concat_ws(':', 'k', c.store_id, c.lo_ms, i)) AS u_sku,
         demo_control.unit_random($1, concat_ws(':', 'q', c.store_id, c.lo_ms, i)) AS u_quantity,
         demo_control.unit_random($1, concat_ws(':', 's', c.store_id, c.lo_ms, i)) AS u_status,
         demo_control.unit_random($1, concat_ws(':', 'l', c.store_id, c.lo_ms, i)) AS u_lag
  FROM counted c
  CROSS JOIN generate_series(1, c.n) AS i
)
INSERT INTO shop.orders (store_id, sku_id, quantity, amount, status, ordered_at, loaded_at)
SELECT d.store_id, pick.sku_id, q.quantity,
       round(q.quantity * pick.base_price * d.price_factor::numeric, 2),
       CASE WHEN d.u_status < 0.92 THEN 'delivered' WHEN d.u_status < 0.97 THEN 'cancelled' ELSE 'refunded' END,
       d.ordered_at,
       coalesce($8::timestamptz, least(d.ordered_at + interval '2 minutes' + d.u_lag * interval '10 minutes', $7::timestamptz))
FROM drawn d
CROSS JOIN LATERAL (
  SELECT a.sku_id, k.base_price
  FROM shop.store_assortment a JOIN shop.skus k USING (sku_id)
  WHERE a.store_id = d.store_id AND a.cum_start <= d.u_sku
  ORDER BY a.cum_start DESC
  LIMIT 1
) AS pick
CROSS JOIN LATERAL (
  SELECT CASE WHEN d.u_quantity < 0.7 THEN 1 WHEN d.u_quantity < 0.92 THEN 2 ELSE 3 END AS quantity
) AS q
ORDER BY d.ordered_at, d.store_id`;

/** Inserts the orders placed in the window; resolves to how many. Needs a UTC session. */
export async function insertDemoOrders(client: pg.ClientBase, window: OrderWindow): Promise<number> {
  if (window.to.getTime() <= window.from.getTime()) return 0;
  const result = await client.query(INSERT_ORDERS, [
    window.seed,
    window.from,
    window.to,
    DEMO_SHAPE.ordersPerStoreDay,
    WEEKDAY_FACTORS,
    HOUR_SHARES,
    window.now,
    window.loadedAt ?? null,
  ]);
  return result.rowCount ?? 0;
}

/**
 * Undoes the orders loader's work since `since`, as if it had stopped then: the orders loaded
 * after it go, and so does every order placed from the earliest of those on, so that the loader,
 * resuming from the returned watermark, back-fills the gap without losing or doubling an order.
 */
export async function rewindOrdersFeed(client: pg.ClientBase, since: Date): Promise<Date> {
  const result = await client.query<{ watermark: Date }>(
    `WITH watermark AS (
       SELECT least($1::timestamptz, (SELECT min(ordered_at) FROM shop.orders WHERE loaded_at > $1::timestamptz)) AS at
     ), undone AS (
       DELETE FROM shop.orders WHERE loaded_at > $1::timestamptz OR ordered_at >= (SELECT at FROM watermark)
     )
     SELECT at AS watermark FROM watermark`,
    [since],
  );
  return result.rows[0]?.watermark ?? since;
}
