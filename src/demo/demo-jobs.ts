// The demo's pipelines as jobs a runbook can re-run from outside the running demo, the way an
// on-call person re-runs a loader: `pipewarden demo --load inventory-feed [--date D]` loads one
// day's snapshot of every store, into whichever table the feed writes to now (the migrated one
// while `inventory-feed` is broken — which is why re-running it does not fix that incident).

import type pg from 'pg';
import { PipewardenError } from '../errors.ts';
import { notSeededError, selectDemoFeeds, updateFeedWatermark } from './demo-feeds.ts';
import type { InventoryTable } from './demo-inventory.ts';
import { loadInventorySnapshot, loadInventorySnapshotV2 } from './demo-inventory.ts';
import { demoControlExists } from './demo-schema.ts';
import { withDemoTransaction } from './demo-transaction.ts';
import { selectDemoSeed } from './seed-demo-warehouse.ts';

export const DEMO_JOBS = ['inventory-feed'] as const;

export interface InventoryJobResult {
  table: InventoryTable;
  date: string;
  stores: number;
  rows: number;
}

async function allStores(client: pg.ClientBase): Promise<number[]> {
  const result = await client.query<{ store_id: number }>('SELECT store_id FROM shop.stores ORDER BY store_id');
  return result.rows.map((row) => row.store_id);
}

/** One run of the inventory feed for `date` (default: today, UTC), all stores, loaded `now`. */
export async function runInventoryJob(client: pg.ClientBase, now: Date, date?: string): Promise<InventoryJobResult> {
  const day = date ?? now.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day))) {
    throw new PipewardenError('demo_invalid_date', `--date must be a day like 2025-11-03, got ${JSON.stringify(day)}`);
  }
  if (!(await demoControlExists(client))) throw notSeededError();
  const result = await withDemoTransaction(client, 'wait', async () => {
    const seed = await selectDemoSeed(client);
    if (seed === undefined) throw notSeededError();
    const broken = (await selectDemoFeeds(client)).get('inventory-feed')?.state === 'broken';
    const stores = await allStores(client);
    const load = { seed, stores, today: day, now };
    if (broken) return { table: 'raw.store_inventory_v2' as const, date: day, stores: stores.length, rows: await loadInventorySnapshotV2(client, load) };
    const rows = await loadInventorySnapshot(client, load);
    if (date === undefined) await updateFeedWatermark(client, 'inventory-feed', now);
    return { table: 'raw.store_inventory' as const, date: day, stores: stores.length, rows };
  });
  return result as InventoryJobResult;
}
