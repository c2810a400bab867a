// The analytics team's derived table, rebuilt from scratch on every refresh: for each store that
// has a current inventory snapshot, the marketplace's best sellers of the last seven days that the
// store does not list, with what other stores charge for them. It reads only the old inventory
// table, which is exactly why the inventory team's migration hurts it: prices go NULL once no
// snapshot is current enough to price an item, then the stores drop out and the table empties.
//
// The team publishes it the write-audit-publish way pipewarden's `publish` step uses (without an
// audit, which is their mistake): each refresh is built in a staging table and swapped in, and
// the table it replaces is kept as a version (`…__pw_v<stamp>`), the last 40 (ten minutes of
// demo time: back past the NULL prices of a failure played from its start), so pipewarden's
// `rollback` step can bring back the last good one.

import type pg from 'pg';
import { dropTable, nextVersionName, renameTable, selectVersions } from '../runbooks/actions/table-versions.ts';
import type { TableRef } from '../warehouse/warehouse.ts';
import { DEMO_SHAPE, DEMO_TIMING } from './demo-shape.ts';

export interface TopItemsRefresh {
  rows: number;
  /** Rows whose price_elsewhere is NULL (no current price anywhere). */
  rowsWithoutPrice: number;
}

const LIVE: TableRef = { schema: 'analytics', name: 'top_items_not_carried' };
const STAGING: TableRef = { schema: 'analytics', name: 'top_items_not_carried__staging' };
export const TOP_ITEMS_VERSIONS_KEPT = 40;

const CREATE_STAGING = `
DROP TABLE IF EXISTS analytics.top_items_not_carried__staging;
CREATE TABLE analytics.top_items_not_carried__staging (LIKE analytics.top_items_not_carried INCLUDING ALL)`;

const INSERT_TOP_ITEMS = `
WITH top_skus AS (
  SELECT sku_id, sum(quantity)::int AS units_7d,
         row_number() OVER (ORDER BY sum(quantity) DESC, sku_id)::int AS marketplace_rank
  FROM shop.orders
  WHERE ordered_at > $1::timestamptz - interval '7 days' AND ordered_at <= $1::timestamptz AND status <> 'cancelled'
  GROUP BY sku_id
  ORDER BY units_7d DESC, sku_id
  LIMIT $2
),
assortment AS (
  SELECT DISTINCT store_id, sku_id
  FROM raw.store_inventory
  WHERE loaded_at > $1::timestamptz - $3::float8 * interval '1 millisecond' AND loaded_at <= $1::timestamptz
),
prices AS (
  SELECT sku_id, round(avg(price), 2) AS price
  FROM raw.store_inventory
  WHERE loaded_at > $1::timestamptz - $4::float8 * interval '1 millisecond' AND loaded_at <= $1::timestamptz AND quantity > 0
  GROUP BY sku_id
),
carriers AS (
  SELECT sku_id, count(*)::int AS stores FROM assortment GROUP BY sku_id
),
candidates AS (
  SELECT r.store_id, t.sku_id, t.marketplace_rank, t.units_7d,
         row_number() OVER (PARTITION BY r.store_id ORDER BY t.marketplace_rank)::int AS store_rank
  FROM (SELECT DISTINCT store_id FROM assortment) AS r
  CROSS JOIN top_skus t
  WHERE NOT EXISTS (SELECT 1 FROM assortment a WHERE a.store_id = r.store_id AND a.sku_id = t.sku_id)
)
INSERT INTO analytics.top_items_not_carried__staging
  (store_id, sku_id, store_rank, marketplace_rank, units_7d, stores_carrying, price_elsewhere, refreshed_at)
SELECT c.store_id, c.sku_id, c.store_rank, c.marketplace_rank, c.units_7d, coalesce(cr.stores, 0), p.price, $1::timestamptz
FROM candidates c
LEFT JOIN carriers cr USING (sku_id)
LEFT JOIN prices p USING (sku_id)
WHERE c.store_rank <= $5
RETURNING price_elsewhere IS NULL AS without_price`;

/** Builds the table as of `now` and publishes it. Run inside the caller's transaction. */
export async function refreshTopItemsNotCarried(client: pg.ClientBase, now: Date): Promise<TopItemsRefresh> {
  await client.query(CREATE_STAGING);
  const result = await client.query<{ without_price: boolean }>(INSERT_TOP_ITEMS, [
    now,
    DEMO_SHAPE.topSkus,
    DEMO_TIMING.assortmentCurrentMs,
    DEMO_TIMING.priceCurrentMs,
    DEMO_SHAPE.itemsPerStore,
  ]);
  // The planner's row estimate comes with the table: pipewarden's sweep reads row counts from it.
  await client.query('ANALYZE analytics.top_items_not_carried__staging');
  await publishStaging(client, now);
  return { rows: result.rows.length, rowsWithoutPrice: result.rows.filter((row) => row.without_price).length };
}

/** Swaps the staging table in, keeping the replaced one as the newest version, the oldest beyond the limit dropped. */
async function publishStaging(client: pg.ClientBase, now: Date): Promise<void> {
  const versions = await selectVersions(client, LIVE);
  await renameTable(client, LIVE, nextVersionName(LIVE, versions, now));
  await renameTable(client, STAGING, LIVE.name);
  const kept = await selectVersions(client, LIVE);
  for (const name of kept.slice(0, Math.max(0, kept.length - TOP_ITEMS_VERSIONS_KEPT))) await dropTable(client, { schema: LIVE.schema, name });
}

/** Whether a runbook paused the refresh (after rolling back a bad publish). */
export async function topItemsRefreshPaused(client: pg.ClientBase): Promise<boolean> {
  const result = await client.query<{ paused: boolean }>("SELECT paused FROM demo_control.jobs WHERE job = 'top-items-refresh'");
  return result.rows[0]?.paused === true;
}

/** Resumes the refresh: the inventory feed's repair is what makes its input good again. */
export async function resumeTopItemsRefresh(client: pg.ClientBase, now: Date): Promise<void> {
  await client.query("UPDATE demo_control.jobs SET paused = false, changed_at = $1 WHERE job = 'top-items-refresh' AND paused", [now]);
}
