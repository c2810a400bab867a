// The demo's scripted failures. Each feed the loader plays has a row in demo_control.feeds; the
// loader reads it every tick, so `pipewarden demo --break inventory-feed` in another terminal
// (another process, its own connection) changes what the running demo does on its next tick.

import type pg from 'pg';
import { PipewardenError } from '../errors.ts';
import {
  createInventoryV2Table,
  demoControlExists,
  dropInventoryV2Table,
  inventoryV2TableExists,
} from './demo-schema.ts';
import { backfillInventoryFromV2, divertInventoryLoadsToV2 } from './demo-inventory.ts';
import { rewindOrdersFeed } from './demo-orders.ts';
import { withDemoTransaction } from './demo-transaction.ts';
import { resumeTopItemsRefresh } from './top-items-not-carried.ts';

/** Every failure the demo can play, with the one line `pipewarden demo --help` shows. */
export const DEMO_FAILURES = {
  'inventory-feed':
    'the inventory team migrates to raw.store_inventory_v2 (renamed columns): raw.store_inventory goes stale, ' +
    'prices in analytics.top_items_not_carried turn NULL, then its rows collapse',
  'orders-feed': 'the orders loader stops: shop.orders goes stale and its hourly volume drops to zero until repaired',
} as const;

export type DemoFailureName = keyof typeof DEMO_FAILURES;

export type FeedState = 'ok' | 'broken';

export const DEMO_FAILURE_NAMES = Object.keys(DEMO_FAILURES) as DemoFailureName[];

export interface DemoFeedRow {
  feed: string;
  state: FeedState;
  changed_at: Date;
  watermark: Date;
}

export interface FeedChange {
  feed: DemoFailureName;
  previousState: FeedState;
  state: FeedState;
  changedAt: Date;
  /** Repair of `inventory-feed` only: rows copied back from the migrated table. */
  backfilledRows?: number;
}

export function isDemoFailureName(name: string): name is DemoFailureName {
  return Object.hasOwn(DEMO_FAILURES, name);
}

/** The name as a failure, or an error that lists the valid ones. */
export function parseDemoFailureName(name: string): DemoFailureName {
  if (isDemoFailureName(name)) return name;
  const valid = DEMO_FAILURE_NAMES.map((failure) => `  ${failure}: ${DEMO_FAILURES[failure]}`).join('\n');
  throw new PipewardenError('demo_unknown_failure', `Unknown demo failure ${JSON.stringify(name)}. Valid names:\n${valid}`);
}

export async function insertDemoFeeds(client: pg.ClientBase, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO demo_control.feeds (feed, state, changed_at, watermark)
     SELECT feed, 'ok', $2::timestamptz, $2::timestamptz FROM unnest($1::text[]) AS feed
     ON CONFLICT (feed) DO NOTHING`,
    [DEMO_FAILURE_NAMES, now],
  );
}

export async function selectDemoFeeds(client: pg.ClientBase): Promise<Map<string, DemoFeedRow>> {
  const result = await client.query<DemoFeedRow>('SELECT feed, state, changed_at, watermark FROM demo_control.feeds');
  return new Map(result.rows.map((row) => [row.feed, row]));
}

async function selectFeedForUpdate(client: pg.ClientBase, feed: DemoFailureName): Promise<DemoFeedRow | undefined> {
  const result = await client.query<DemoFeedRow>(
    'SELECT feed, state, changed_at, watermark FROM demo_control.feeds WHERE feed = $1 FOR UPDATE',
    [feed],
  );
  return result.rows[0];
}

async function updateFeedState(client: pg.ClientBase, feed: DemoFailureName, state: FeedState, now: Date): Promise<void> {
  await client.query('UPDATE demo_control.feeds SET state = $2, changed_at = $3 WHERE feed = $1', [feed, state, now]);
}

export async function updateFeedWatermark(client: pg.ClientBase, feed: DemoFailureName, watermark: Date): Promise<void> {
  await client.query('UPDATE demo_control.feeds SET watermark = $2 WHERE feed = $1', [feed, watermark]);
}

export interface BreakOptions {
  /**
   * How long ago the failure began. The loads the feed made since then are undone as the failure
   * would have had them (inventory: delivered to v2 instead; orders: never loaded), so the
   * warehouse looks the way the on-call person finds it that long into the incident. 0 plays it
   * from now on.
   */
  agoMs?: number;
}

/**
 * Plays a failure in the (running) demo. `inventory-feed`: the inventory team's migration
 * creates raw.store_inventory_v2 and the feed writes there from then on. `orders-feed`: the
 * orders loader stops. Breaking a broken feed changes nothing and says so (previousState 'broken').
 */
export async function breakDemoFeed(client: pg.ClientBase, name: string, now: Date, options: BreakOptions = {}): Promise<FeedChange> {
  const feed = parseDemoFailureName(name);
  const agoMs = options.agoMs ?? 0;
  if (!Number.isFinite(agoMs) || agoMs < 0) throw new PipewardenError('demo_invalid_ago', `The failure's start must be now or in the past; got ${agoMs} ms ago.`);
  const since = new Date(now.getTime() - agoMs);
  return changeFeed(client, feed, async (current) => {
    if (current.state === 'broken') return { feed, previousState: 'broken', state: 'broken', changedAt: current.changed_at };
    if (feed === 'inventory-feed') {
      await createInventoryV2Table(client);
      await divertInventoryLoadsToV2(client, since);
    } else {
      await updateFeedWatermark(client, feed, await rewindOrdersFeed(client, since));
    }
    await updateFeedState(client, feed, 'broken', since);
    return { feed, previousState: 'ok', state: 'broken', changedAt: since };
  });
}

/**
 * Undoes a failure. `inventory-feed`: the inventory team points the feed back at the old table
 * and backfills it from v2, so raw.store_inventory is current again at once; v2 is dropped.
 * `orders-feed`: the loader's next tick back-fills the orders missed while it was stopped.
 */
export async function repairDemoFeed(client: pg.ClientBase, name: string, now: Date): Promise<FeedChange> {
  const feed = parseDemoFailureName(name);
  return changeFeed(client, feed, async (current) => {
    const change: FeedChange = { feed, previousState: current.state, state: 'ok', changedAt: current.changed_at };
    if (feed === 'inventory-feed' && (await inventoryV2TableExists(client))) {
      change.backfilledRows = await backfillInventoryFromV2(client);
      await dropInventoryV2Table(client);
    }
    // The refresh a rollback paused can run again once its input is whole.
    if (feed === 'inventory-feed') await resumeTopItemsRefresh(client, now);
    if (current.state === 'broken') {
      await updateFeedState(client, feed, 'ok', now);
      change.changedAt = now;
    }
    return change;
  });
}

async function changeFeed(
  client: pg.ClientBase,
  feed: DemoFailureName,
  work: (current: DemoFeedRow) => Promise<FeedChange>,
): Promise<FeedChange> {
  if (!(await demoControlExists(client))) throw notSeededError();
  const change = await withDemoTransaction(client, 'wait', async () => {
    const current = await selectFeedForUpdate(client, feed);
    if (current === undefined) throw notSeededError();
    return work(current);
  });
  // 'wait' always takes the lock, so the work ran.
  return change as FeedChange;
}

export function notSeededError(): PipewardenError {
  return new PipewardenError(
    'demo_not_seeded',
    'The demo warehouse is not set up in this database: start the demo first (`pipewarden demo`), then break or repair it from another terminal.',
  );
}
