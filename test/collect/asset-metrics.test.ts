// The per-asset series, statement counts and warehouse read errors from real sweeps and profiles:
// a blank warehouse database with feeds of known age and an orders table whose last day
// collapsed, a real state database, and the exposition text checked by promtool. Each test uses
// its own warehouse name, so its asset keys (and stored state) are its own.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProfile } from '../../src/collect/profile.ts';
import { runSweep, type SweepContext } from '../../src/collect/sweep.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding } from '../../src/types.ts';
import { countWarehouseStatements } from '../../src/warehouse/count-warehouse-statements.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { promtoolCheckMetrics } from '../telemetry/promtool-check.ts';
import { createOrdersTable, rowsOnDay, seedDays, T0 } from './profile-fixtures.ts';

const MINUTE = 60_000;
const HOSTILE_TABLE = 'a/b";rm -rf /';
const FEEDS = { stale_feed: 180, late_feed: 30, fresh_a: 1, fresh_b: 2 } as const;
// Every feed: warn after 10 minutes, fail after an hour.
const FEED_FRESHNESS = { column: 'loaded_at', warn_after: '10m', error_after: '1h' } as const;

let state: TestDatabase;
let warehouseDb: TestDatabase;
const opened: Warehouse[] = [];

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  const pool = warehouseDb.pool();
  await pool.query('CREATE SCHEMA shop');
  for (const [table, minutesOld] of Object.entries(FEEDS)) {
    await pool.query(`CREATE TABLE shop.${table} (id int, loaded_at timestamptz)`);
    await pool.query(`INSERT INTO shop.${table} VALUES (1, $1)`, [new Date(T0.getTime() - minutesOld * MINUTE)]);
  }
  await pool.query(`CREATE TABLE shop."a/b"";rm -rf /" (id int, loaded_at timestamptz)`);
  await pool.query(`INSERT INTO shop."a/b"";rm -rf /" VALUES (1, $1)`, [new Date(T0.getTime() - 5 * MINUTE)]);
  // 40 steady days, then a collapse yesterday: 5 rows instead of ~600.
  await createOrdersTable(warehouseDb, 'orders');
  await seedDays(warehouseDb, 'orders', -40, [...Array.from({ length: 39 }, (_, i) => rowsOnDay(i - 40)), 5]);
});

afterAll(async () => {
  await Promise.allSettled(opened.map((warehouse) => warehouse.close()));
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

interface Harness {
  context: SweepContext;
  metrics: Metrics;
  /** Statements the warehouse saw, as the adapter's own hook reports them. */
  statements: string[];
}

function harness(name: string, monitors: ConfigInput['monitors'], options: { maxAssetSeries?: number; url?: string } = {}): Harness {
  const config = daemonConfig(state.url, { [name]: options.url ?? warehouseDb.url }, { monitors });
  const metrics = new Metrics({ processMetrics: false, ...(options.maxAssetSeries === undefined ? {} : { maxAssetSeries: options.maxAssetSeries }) });
  const statements: string[] = [];
  const count = countWarehouseStatements(metrics, name);
  const warehouse = createPostgresWarehouse(name, config.warehouses[name]!, testLogger(), {
    onStatement: (sql) => {
      statements.push(sql);
      count(sql);
    },
  });
  opened.push(warehouse);
  return { context: { config, warehouses: new Map([[name, warehouse]]), state: state.pool(), logger: testLogger(), metrics, now: () => T0 }, metrics, statements };
}

const sweep = (context: SweepContext) => runSweep(context, new AbortController().signal);
const profile = (context: SweepContext) => runProfile(context, new AbortController().signal);

/** A metric's samples as `label=value,…` → value. */
async function samples(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map((value) => [Object.entries(value.labels).map(([key, label]) => `${key}=${String(label)}`).join(','), value.value]));
}

function findingOf(findings: readonly Finding[], check: string): Finding {
  const found = findings.find((finding) => finding.check === check);
  if (found === undefined) throw new Error(`no finding ${check}; got ${findings.map((finding) => finding.check).join(', ')}`);
  return found;
}

describe('per-asset series from real sweeps and profiles', () => {
  it('carry each asset\'s freshness, lateness, rows, expected band, status and score, one series per asset and kind', async () => {
    const { context, metrics } = harness('wh', [
      { assets: 'wh.shop.*_feed', freshness: FEED_FRESHNESS },
      { assets: 'wh.shop.fresh_*', freshness: FEED_FRESHNESS },
      { assets: 'wh.shop.a*', freshness: FEED_FRESHNESS },
      { assets: 'wh.shop.orders', freshness: { column: 'created_at', warn_after: '1d', error_after: '2d' }, volume: { column: 'created_at', bucket: '1d' } },
    ]);
    await sweep(context);
    const { findings } = await profile(context);
    const volume = findingOf(findings, 'volume:wh.shop.orders');
    expect(volume).toMatchObject({ status: 'fail', observed: 5 });
    expect(volume.expected?.low).toBeGreaterThan(100);
    expect(volume.score).toBeDefined();

    const hostile = `wh.shop.${HOSTILE_TABLE}`;
    expect(await samples(metrics, 'pipewarden_asset_freshness_seconds')).toEqual({
      'asset=wh.shop.stale_feed': 180 * 60,
      'asset=wh.shop.late_feed': 30 * 60,
      'asset=wh.shop.fresh_a': 60,
      'asset=wh.shop.fresh_b': 120,
      [`asset=${hostile}`]: 300,
      // The last of yesterday's 5 rows landed at 19:12; T0 is 06:00.
      'asset=wh.shop.orders': 10.8 * 3600,
    });
    // Past the warn_after (the high end of the expected age), never negative.
    expect(await samples(metrics, 'pipewarden_asset_freshness_lateness_seconds')).toEqual({
      'asset=wh.shop.stale_feed': 170 * 60,
      'asset=wh.shop.late_feed': 20 * 60,
      'asset=wh.shop.fresh_a': 0,
      'asset=wh.shop.fresh_b': 0,
      [`asset=${hostile}`]: 0,
      'asset=wh.shop.orders': 0,
    });
    expect(await samples(metrics, 'pipewarden_asset_rows')).toEqual({ 'asset=wh.shop.orders': 5 });
    expect(await samples(metrics, 'pipewarden_asset_rows_expected_low')).toEqual({ 'asset=wh.shop.orders': volume.expected?.low });
    expect(await samples(metrics, 'pipewarden_asset_rows_expected_high')).toEqual({ 'asset=wh.shop.orders': volume.expected?.high });
    expect(await samples(metrics, 'pipewarden_anomaly_score')).toEqual({ 'asset=wh.shop.orders,kind=volume': volume.score });
    expect(await samples(metrics, 'pipewarden_check_status')).toEqual({
      'asset=wh.shop.stale_feed,kind=freshness': 2,
      'asset=wh.shop.late_feed,kind=freshness': 1,
      'asset=wh.shop.fresh_a,kind=freshness': 0,
      'asset=wh.shop.fresh_b,kind=freshness': 0,
      [`asset=${hostile},kind=freshness`]: 0,
      'asset=wh.shop.orders,kind=freshness': 0,
      'asset=wh.shop.orders,kind=volume': 2,
    });
    expect(await samples(metrics, 'pipewarden_asset_series_dropped')).toEqual({ '': 0 });

    // The next sweep replaces the sweep's series only: the profile's volume series stay.
    await sweep(context);
    expect(await samples(metrics, 'pipewarden_asset_rows')).toEqual({ 'asset=wh.shop.orders': 5 });
    expect((await samples(metrics, 'pipewarden_check_status'))['asset=wh.shop.orders,kind=volume']).toBe(2);

    // A live scrape with these series (quotes and ; rm -rf in a label included) passes promtool.
    const scrape = await metrics.render();
    expect(scrape).toContain('pipewarden_asset_freshness_seconds{asset="wh.shop.a/b\\";rm -rf /"} 300');
    expect(await promtoolCheckMetrics(scrape)).toEqual({ code: 0, output: '' });
  });

  it('keeps only the worst assets beyond the cap, counts the rest, and removes an asset that vanished', async () => {
    const { context, metrics } = harness('capped', [{ assets: ['capped.shop.*_feed', 'capped.shop.fresh_*'], freshness: FEED_FRESHNESS }], { maxAssetSeries: 2 });
    await sweep(context);
    expect(await samples(metrics, 'pipewarden_check_status')).toEqual({
      'asset=capped.shop.stale_feed,kind=freshness': 2,
      'asset=capped.shop.late_feed,kind=freshness': 1,
    });
    expect(Object.keys(await samples(metrics, 'pipewarden_asset_freshness_seconds')).sort()).toEqual(['asset=capped.shop.late_feed', 'asset=capped.shop.stale_feed']);
    expect(await samples(metrics, 'pipewarden_asset_series_dropped')).toEqual({ '': 2 });
    // Every finding still counts in pipewarden_findings: the cap is about per-asset series only.
    expect(await samples(metrics, 'pipewarden_findings')).toEqual({ 'kind=freshness,status=fail': 1, 'kind=freshness,status=warn': 1, 'kind=freshness,status=ok': 2 });

    // The stale feed goes away: its series go with it, and a healthy asset takes its place.
    await warehouseDb.pool().query('ALTER TABLE shop.stale_feed RENAME TO stale_gone');
    try {
      await sweep(context);
    } finally {
      await warehouseDb.pool().query('ALTER TABLE shop.stale_gone RENAME TO stale_feed');
    }
    const statuses = await samples(metrics, 'pipewarden_check_status');
    expect(statuses).toEqual({ 'asset=capped.shop.late_feed,kind=freshness': 1, 'asset=capped.shop.fresh_a,kind=freshness': 0 });
    expect(Object.keys(await samples(metrics, 'pipewarden_asset_freshness_lateness_seconds'))).not.toContain('asset=capped.shop.stale_feed');
    expect(await samples(metrics, 'pipewarden_asset_series_dropped')).toEqual({ '': 1 });
  });

  it('counts the statements each job sends to the warehouse, and the warehouse reads that failed', async () => {
    const { context, metrics, statements } = harness('counted', [{ assets: 'counted.shop.orders', freshness: { column: 'created_at' }, volume: { column: 'created_at', bucket: '1d' } }]);
    await sweep(context);
    const bySweep = statements.length;
    expect(bySweep).toBeGreaterThan(0);
    await profile(context);
    await context.warehouses.get('counted')!.ping();
    expect(await samples(metrics, 'pipewarden_warehouse_statements_total')).toEqual({
      'warehouse=counted,job=sweep': bySweep,
      'warehouse=counted,job=profile': statements.length - bySweep - 1,
      'warehouse=counted,job=other': 1,
    });
    expect(Object.keys(await samples(metrics, 'pipewarden_profile_duration_seconds'))).toContain('le=+Inf,warehouse=counted');

    const down = harness('down', [{ assets: 'down.shop.orders', freshness: { column: 'created_at' }, volume: { column: 'created_at', bucket: '1d' } }], {
      url: `postgres://pipewarden@127.0.0.1:${await freePort()}/nowhere`,
    });
    await sweep(down.context);
    await profile(down.context);
    expect(await samples(down.metrics, 'pipewarden_collection_errors_total')).toEqual({ 'source=warehouse': 2 });
    // Unmeasurable is status 3 for each kind, from the job that owns it.
    expect(await samples(down.metrics, 'pipewarden_check_status')).toEqual({ 'asset=down.shop.orders,kind=freshness': 3, 'asset=down.shop.orders,kind=volume': 3 });
  });
});
