// `pipewarden demo --load inventory-feed`, the job the demo's runbooks re-run: it loads one day's
// snapshot of every store into the table the feed writes to now — the old one while the feed
// works, the migrated one while it is broken, which is why re-running it cannot fix that incident.

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakDemoFeed, repairDemoFeed } from '../../src/demo/demo-feeds.ts';
import { runInventoryJob } from '../../src/demo/demo-jobs.ts';
import { seedDemoWarehouse } from '../../src/demo/seed-demo-warehouse.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';

const NOW = new Date('2025-03-14T18:00:00Z');

let database: TestDatabase;
let client: pg.PoolClient;

beforeAll(async () => {
  database = await createBlankDatabase();
  client = await database.pool().connect();
  await seedDemoWarehouse(client, { now: NOW, seed: 7 });
}, 60_000);

afterAll(async () => {
  client?.release();
  await database?.drop();
});

async function newestLoad(table: 'raw.store_inventory' | 'raw.store_inventory_v2'): Promise<Date | null> {
  const column = table === 'raw.store_inventory' ? 'loaded_at' : 'ingested_at';
  const result = await client.query<{ newest: Date | null }>(`SELECT max(${column}) AS newest FROM ${table}`);
  return result.rows[0]?.newest ?? null;
}

describe('the inventory job', () => {
  it("reloads today's snapshot of every store into raw.store_inventory while the feed works", async () => {
    const at = new Date(NOW.getTime() + 60_000);
    const result = await runInventoryJob(client, at);
    expect(result).toMatchObject({ table: 'raw.store_inventory', date: '2025-03-14', stores: 40 });
    expect(result.rows).toBeGreaterThan(1_000);
    expect(await newestLoad('raw.store_inventory')).toEqual(at);
  });

  it('loads a past day when asked, without touching today', async () => {
    const at = new Date(NOW.getTime() + 120_000);
    const result = await runInventoryJob(client, at, '2025-03-10');
    expect(result).toMatchObject({ table: 'raw.store_inventory', date: '2025-03-10' });
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM raw.store_inventory WHERE snapshot_date = '2025-03-10' AND loaded_at = $1", [at]);
    expect(Number(rows[0]?.n)).toBe(result.rows);
  });

  it('writes to the migrated table while inventory-feed is broken, leaving the old one stale', async () => {
    const before = await newestLoad('raw.store_inventory');
    await breakDemoFeed(client, 'inventory-feed', new Date(NOW.getTime() + 180_000), { agoMs: 0 });
    const at = new Date(NOW.getTime() + 240_000);
    expect(await runInventoryJob(client, at)).toMatchObject({ table: 'raw.store_inventory_v2' });
    expect(await newestLoad('raw.store_inventory_v2')).toEqual(at);
    expect(await newestLoad('raw.store_inventory')).toEqual(before);
    await repairDemoFeed(client, 'inventory-feed', new Date(NOW.getTime() + 300_000));
  });

  it('refuses a date that is not a day', async () => {
    await expect(runInventoryJob(client, NOW, '2025-13-01')).rejects.toThrow(/--date must be a day like 2025-11-03, got "2025-13-01"/);
  });
});
