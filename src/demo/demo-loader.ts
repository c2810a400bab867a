// Keeps the demo marketplace alive: every tick it loads the orders placed since the last tick,
// plays the inventory team's feed (today's snapshot of the least recently loaded stores) and
// rebuilds analytics.top_items_not_carried. It reads demo_control.feeds every tick, so a failure
// switched on from another process takes effect on the next tick.

import type pg from 'pg';
import type { Logger } from 'pino';
import { TimerLoop } from '../scheduler/timer-loop.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import {
  type DemoFailureName,
  type DemoFeedRow,
  type FeedState,
  DEMO_FAILURE_NAMES,
  notSeededError,
  selectDemoFeeds,
  updateFeedWatermark,
} from './demo-feeds.ts';
import {
  type InventoryTable,
  loadInventorySnapshot,
  loadInventorySnapshotV2,
  selectStalestStores,
} from './demo-inventory.ts';
import { insertDemoOrders } from './demo-orders.ts';
import { demoControlExists } from './demo-schema.ts';
import { DEMO_TIMING } from './demo-shape.ts';
import { withDemoTransaction } from './demo-transaction.ts';
import { selectDemoSeed } from './seed-demo-warehouse.ts';
import { refreshTopItemsNotCarried, topItemsRefreshPaused, type TopItemsRefresh } from './top-items-not-carried.ts';

/** A paused refresh publishes nothing; the tick reports no rows for it. */
const PAUSED_REFRESH: TopItemsRefresh = { rows: 0, rowsWithoutPrice: 0 };

export interface DemoLoaderDeps {
  pool: pg.Pool;
  logger: Logger;
  now: () => Date;
  /** Pause between ticks (default 15 s). */
  intervalMs?: number;
  /** Stores whose inventory snapshot each tick reloads (default 10: all 40 within four ticks). */
  storesPerTick?: number;
  /** Loop errors are counted in pipewarden_loop_errors_total{loop="demo-loader"} when given. */
  metrics?: Pick<Metrics, 'loopErrors'>;
}

export interface InventoryLoad {
  /** Where the feed wrote: the old table, or the migrated one while `inventory-feed` is broken. */
  table: InventoryTable;
  stores: number[];
  rows: number;
}

export interface TickSummary {
  at: Date;
  /** True when another process held the demo lock (its tick, a break or a repair): nothing ran. */
  skipped: boolean;
  orders: number;
  inventory: InventoryLoad | null;
  topItemsNotCarried: number;
  topItemsWithoutPrice: number;
  /** State of each feed as this tick read it; empty when the tick was skipped. */
  feeds: Partial<Record<DemoFailureName, FeedState>>;
}

/** Ticks at once, then every intervalMs (start/stop/errors: TimerLoop). */
export class DemoLoader extends TimerLoop {
  private readonly pool: pg.Pool;
  private readonly now: () => Date;
  private readonly storesPerTick: number;

  constructor(deps: DemoLoaderDeps) {
    super({ name: 'demo-loader', logger: deps.logger, intervalMs: deps.intervalMs ?? DEMO_TIMING.tickMs, metrics: deps.metrics });
    this.pool = deps.pool;
    this.now = deps.now;
    this.storesPerTick = deps.storesPerTick ?? DEMO_TIMING.storesPerTick;
  }

  protected async pass(): Promise<undefined> {
    this.logTick(await this.tick());
    return undefined;
  }

  /** One tick: orders, inventory feed, derived table. Throws; the loop around it does not. */
  async tick(): Promise<TickSummary> {
    const at = this.now();
    const client = await this.pool.connect();
    try {
      const summary = await withDemoTransaction(client, 'try', () => this.tickInTransaction(client, at));
      return summary ?? skippedTick(at);
    } finally {
      client.release();
    }
  }

  private async tickInTransaction(client: pg.PoolClient, at: Date): Promise<TickSummary> {
    if (!(await demoControlExists(client))) throw notSeededError();
    const seed = await selectDemoSeed(client);
    if (seed === undefined) throw notSeededError();
    const feeds = await selectDemoFeeds(client);
    const orders = await this.loadOrders(client, seed, at, feeds.get('orders-feed'));
    const inventory = await this.loadInventory(client, seed, at, feeds.get('inventory-feed'));
    const refresh = (await topItemsRefreshPaused(client)) ? PAUSED_REFRESH : await refreshTopItemsNotCarried(client, at);
    return {
      at,
      skipped: false,
      orders,
      inventory,
      topItemsNotCarried: refresh.rows,
      topItemsWithoutPrice: refresh.rowsWithoutPrice,
      feeds: feedStates(feeds),
    };
  }

  // Orders since the feed's watermark, so a restart or a repaired feed back-fills the gap
  // (bounded, to keep one tick small); a broken feed loads nothing and keeps its watermark.
  private async loadOrders(client: pg.PoolClient, seed: number, at: Date, feed: DemoFeedRow | undefined): Promise<number> {
    if (feed === undefined || feed.state === 'broken') return 0;
    const from = new Date(Math.max(feed.watermark.getTime(), at.getTime() - DEMO_TIMING.maxCatchUpMs));
    if (at.getTime() <= from.getTime()) return 0;
    const orders = await insertDemoOrders(client, { seed, from, to: at, now: at, loadedAt: at });
    await updateFeedWatermark(client, 'orders-feed', at);
    return orders;
  }

  private async loadInventory(
    client: pg.PoolClient,
    seed: number,
    at: Date,
    feed: DemoFeedRow | undefined,
  ): Promise<InventoryLoad | null> {
    if (feed === undefined) return null;
    const today = at.toISOString().slice(0, 10);
    if (feed.state === 'broken') {
      const stores = await selectStalestStores(client, 'raw.store_inventory_v2', today, this.storesPerTick);
      const rows = await loadInventorySnapshotV2(client, { seed, stores, today, now: at });
      return { table: 'raw.store_inventory_v2', stores, rows };
    }
    const stores = await selectStalestStores(client, 'raw.store_inventory', today, this.storesPerTick);
    const rows = await loadInventorySnapshot(client, { seed, stores, today, now: at });
    await updateFeedWatermark(client, 'inventory-feed', at);
    return { table: 'raw.store_inventory', stores, rows };
  }

  private logTick(summary: TickSummary): void {
    if (summary.skipped) {
      this.logger.debug('demo loader tick skipped: another process holds the demo lock');
      return;
    }
    this.logger.info(
      {
        orders: summary.orders,
        inventoryTable: summary.inventory?.table,
        inventoryRows: summary.inventory?.rows,
        topItemsNotCarried: summary.topItemsNotCarried,
        topItemsWithoutPrice: summary.topItemsWithoutPrice,
        feeds: summary.feeds,
      },
      'demo loader tick',
    );
  }
}

function skippedTick(at: Date): TickSummary {
  return {
    at,
    skipped: true,
    orders: 0,
    inventory: null,
    topItemsNotCarried: 0,
    topItemsWithoutPrice: 0,
    feeds: {},
  };
}

function feedStates(feeds: Map<string, DemoFeedRow>): Record<DemoFailureName, FeedState> {
  const states = {} as Record<DemoFailureName, FeedState>;
  for (const name of DEMO_FAILURE_NAMES) states[name] = feeds.get(name)?.state ?? 'ok';
  return states;
}
