// One sweep against a real warehouse (a blank database with tables made here) and a real state
// database. Each test sweeps under its own warehouse name, so the asset keys it writes to
// table_state and findings are its own even though the warehouse and the state DB are shared.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepContext } from '../../src/collect/sweep.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding } from '../../src/types.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const MINUTE = 60_000;
const T0 = new Date('2025-03-14T12:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * MINUTE);

// Every relation of the warehouse, as asset keys without the warehouse part.
const RELATIONS = ['shop.orders', 'shop.customers', 'shop.empty_feed', 'shop.paid_orders', 'we"ird.a/b'];

let state: TestDatabase;
let warehouseDb: TestDatabase;
let writer: pg.Client;
const opened: Warehouse[] = [];

/** Runs statements on one connection and flushes its statistics so the next catalog read sees the writes. */
async function write(sql: string, params: unknown[] = []): Promise<void> {
  await writer.query(sql, params);
  await writer.query('select pg_stat_force_next_flush()');
}

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  writer = new pg.Client({ connectionString: warehouseDb.url });
  await writer.connect();
  await write(`
    create schema shop;
    create table shop.orders (id int primary key, loaded_at timestamptz not null);
    create table shop.customers (id int);
    create table shop.empty_feed (id int, loaded_at timestamptz);
    create view shop.paid_orders as select id, loaded_at from shop.orders;
    create schema "we""ird";
    create table "we""ird"."a/b" (id int, "Loaded At" timestamptz);
  `);
  // The newest order landed 10 minutes before T0; the hostile table's newest row 1 minute before.
  await write('insert into shop.orders select g, $1::timestamptz - g * interval \'1 minute\' from generate_series(10, 40) g', [T0]);
  await write('insert into "we""ird"."a/b" values (1, $1)', [at(-1)]);
  await write('analyze');
});

afterAll(async () => {
  await Promise.allSettled(opened.map((warehouse) => warehouse.close()));
  await writer?.end();
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

interface SweepSetup {
  monitors?: ConfigInput['monitors'];
  /** Warehouse name → URL; default: `name` on the test warehouse. */
  warehouses?: Record<string, string>;
  now?: () => Date;
  onStatement?: (sql: string) => void;
}

function sweepContext(name: string, setup: SweepSetup = {}): SweepContext & { metrics: Metrics } {
  const urls = setup.warehouses ?? { [name]: warehouseDb.url };
  const config = daemonConfig(state.url, urls, { monitors: setup.monitors ?? [] });
  const warehouses = new Map<string, Warehouse>();
  for (const [warehouseName, warehouseConfig] of Object.entries(config.warehouses)) {
    const warehouse = createPostgresWarehouse(warehouseName, warehouseConfig, testLogger(), { onStatement: setup.onStatement });
    opened.push(warehouse);
    warehouses.set(warehouseName, warehouse);
  }
  return { config, warehouses, state: state.pool(), logger: testLogger(), metrics: new Metrics({ processMetrics: false }), now: setup.now ?? (() => T0) };
}

const sweep = (context: SweepContext, signal = new AbortController().signal, select?: string) =>
  runSweep(context, signal, select === undefined ? {} : { select });

function findingOf(findings: readonly Finding[], asset: string): Finding {
  const found = findings.find((finding) => finding.asset === asset);
  if (!found) throw new Error(`no finding for ${asset}; got ${findings.map((finding) => finding.asset).join(', ')}`);
  return found;
}

interface TableStateRecord {
  asset: string;
  kind: string;
  schema_name: string;
  table_name: string;
  writes_total: number | null;
  first_seen_at: Date;
  last_seen_at: Date;
  last_changed_at: Date | null;
  columns: { name: string }[];
}

async function tableState(warehouse: string): Promise<Map<string, TableStateRecord>> {
  const { rows } = await state.pool().query<TableStateRecord>('select * from table_state where warehouse = $1', [warehouse]);
  return new Map(rows.map((row) => [row.asset.slice(warehouse.length + 1), row]));
}

function stateOf(rows: Map<string, TableStateRecord>, relation: string): TableStateRecord {
  const row = rows.get(relation);
  if (!row) throw new Error(`no table_state row for ${relation}; got ${[...rows.keys()].join(', ')}`);
  return row;
}

describe('runSweep: the catalog snapshot', () => {
  it('writes one table_state row per relation, with kind, names and columns', async () => {
    const result = await sweep(sweepContext('catalog'));
    expect(result.tables).toBe(RELATIONS.length);
    const rows = await tableState('catalog');
    expect([...rows.keys()].sort()).toEqual([...RELATIONS].sort());
    expect(stateOf(rows, 'we"ird.a/b')).toMatchObject({ schema_name: 'we"ird', table_name: 'a/b', kind: 'table', first_seen_at: T0, last_seen_at: T0, last_changed_at: null });
    expect(stateOf(rows, 'we"ird.a/b').columns.map((column) => column.name)).toEqual(['id', 'Loaded At']);
    expect(stateOf(rows, 'shop.paid_orders')).toMatchObject({ kind: 'view', writes_total: null });
    expect(stateOf(rows, 'shop.orders').writes_total).toBeGreaterThanOrEqual(31);
  });

  it('upserts the metadata observations per table at the sweep time; views have none', async () => {
    const context = sweepContext('observed');
    await sweep(context);
    const read = async () =>
      (await state.pool().query<{ asset: string; metric: string; column_name: string; bucket: Date; value: number }>(
        "select asset, metric, column_name, bucket, value from observations where asset like 'observed.%' order by asset, metric",
      )).rows;
    const first = await read();
    expect(first.every((row) => row.bucket.getTime() === T0.getTime() && row.column_name === '')).toBe(true);
    const metricsOf = (rows: typeof first, asset: string) => rows.filter((row) => row.asset === asset).map((row) => row.metric);
    expect(metricsOf(first, 'observed.shop.orders')).toEqual(['row_estimate', 'size_bytes', 'writes_total']);
    expect(metricsOf(first, 'observed.shop.paid_orders')).toEqual([]);
    const orders = first.find((row) => row.asset === 'observed.shop.orders' && row.metric === 'row_estimate');
    expect(orders?.value).toBe(31);

    // Re-sweeping the same moment overwrites the points instead of adding new ones.
    await write('insert into shop.customers values (100), (101)');
    await sweep(context);
    const second = await read();
    expect(second).toHaveLength(first.length);
    const writes = (rows: typeof first) => rows.find((row) => row.asset === 'observed.shop.customers' && row.metric === 'writes_total')?.value ?? -1;
    expect(writes(second)).toBe(writes(first) + 2);
  });

  it('sets last_changed_at only when a table\'s write counters grew since the previous sweep', async () => {
    let now = at(0);
    const context = sweepContext('changes', { now: () => now });
    await sweep(context);
    let rows = await tableState('changes');
    expect([...rows.values()].every((row) => row.last_changed_at === null && row.first_seen_at.getTime() === T0.getTime())).toBe(true);

    now = at(5);
    await write('insert into shop.customers values (1), (2)');
    await sweep(context);
    rows = await tableState('changes');
    expect(stateOf(rows, 'shop.customers').last_changed_at).toEqual(at(5));
    expect(stateOf(rows, 'shop.orders').last_changed_at).toBeNull();
    expect(stateOf(rows, 'shop.customers').last_seen_at).toEqual(at(5));
    expect(stateOf(rows, 'shop.customers').first_seen_at).toEqual(at(0));

    now = at(10);
    await sweep(context);
    rows = await tableState('changes');
    expect(stateOf(rows, 'shop.customers').last_changed_at).toEqual(at(5));
    expect(stateOf(rows, 'shop.customers').last_seen_at).toEqual(at(10));

    now = at(15);
    await write('update shop.customers set id = id where id = 1');
    await sweep(context);
    expect(stateOf(await tableState('changes'), 'shop.customers').last_changed_at).toEqual(at(15));
  });
});

describe('runSweep: freshness findings', () => {
  const thresholds = { warn_after: '5m', error_after: '1h' };

  it('judges a timestamp column against the thresholds at the injected now', async () => {
    let now = T0;
    const context = sweepContext('fresh', { now: () => now, monitors: [{ assets: 'fresh.shop.orders', freshness: { column: 'loaded_at', ...thresholds } }] });
    const warn = findingOf((await sweep(context)).findings, 'fresh.shop.orders');
    expect(warn).toEqual({
      check: 'freshness:fresh.shop.orders',
      kind: 'freshness',
      asset: 'fresh.shop.orders',
      column: 'loaded_at',
      status: 'warn',
      observed: 600,
      expected: { low: 0, high: 300 },
      message: 'fresh.shop.orders: newest loaded_at is 10m old (warn after 5m, fail after 1h)',
    });
    now = at(-8);
    expect(findingOf((await sweep(context)).findings, 'fresh.shop.orders')).toMatchObject({ status: 'ok', observed: 120 });
    now = at(60);
    expect(findingOf((await sweep(context)).findings, 'fresh.shop.orders')).toMatchObject({ status: 'fail', observed: 70 * 60 });
  });

  it('fails a column with no rows, and reads a quoted column of a table with / in its name', async () => {
    const context = sweepContext('edge', {
      monitors: [
        { assets: 'edge.shop.empty_feed', freshness: { column: 'loaded_at', ...thresholds } },
        { assets: 'edge.we"ird.a/b', freshness: { column: 'Loaded At', ...thresholds } },
      ],
    });
    const { findings } = await sweep(context);
    expect(findingOf(findings, 'edge.shop.empty_feed')).toMatchObject({ status: 'fail', observed: null, message: 'edge.shop.empty_feed: no rows with a loaded_at value' });
    expect(findingOf(findings, 'edge.we"ird.a/b')).toMatchObject({ status: 'ok', observed: 60, column: 'Loaded At' });
  });

  it('without a column, measures from the last sweep that saw the write counters move', async () => {
    let now = at(0);
    const context = sweepContext('counters', { now: () => now, monitors: [{ assets: 'counters.shop.customers', freshness: thresholds }] });
    const first = findingOf((await sweep(context)).findings, 'counters.shop.customers');
    expect(first).toMatchObject({ status: 'ok', observed: 0 });
    expect(first).not.toHaveProperty('column');

    now = at(10);
    const unchanged = findingOf((await sweep(context)).findings, 'counters.shop.customers');
    expect(unchanged).toMatchObject({ status: 'warn', observed: 600, message: 'counters.shop.customers: no writes seen in the 10m pipewarden has watched it (warn after 5m, fail after 1h)' });

    now = at(20);
    await write('insert into shop.customers values (3)');
    const written = findingOf((await sweep(context)).findings, 'counters.shop.customers');
    expect(written).toMatchObject({ status: 'ok', observed: 0, message: 'counters.shop.customers: last write seen 0s ago (warn after 5m, fail after 1h)' });

    now = at(90);
    expect(findingOf((await sweep(context)).findings, 'counters.shop.customers')).toMatchObject({ status: 'fail', observed: 70 * 60 });
  });

  it('gives an error finding telling to set `column` for a view, which has no write counters', async () => {
    const context = sweepContext('view', { monitors: [{ assets: 'view.shop.paid_orders', freshness: true }] });
    const finding = findingOf((await sweep(context)).findings, 'view.shop.paid_orders');
    expect(finding).toMatchObject({ check: 'freshness:view.shop.paid_orders', kind: 'freshness', status: 'error', observed: null });
    expect(finding.message).toBe(
      'view.shop.paid_orders: freshness could not be measured: a view has no write counters; set monitors[0].freshness.column to a timestamp column [no_write_counters]',
    );
  });

  it('gives an error finding naming the columns when the configured column does not exist', async () => {
    const context = sweepContext('nocolumn', { monitors: [{ assets: 'nocolumn.shop.orders', freshness: { column: 'updated_at' } }] });
    const finding = findingOf((await sweep(context)).findings, 'nocolumn.shop.orders');
    expect(finding).toMatchObject({ status: 'error', column: 'updated_at', observed: null });
    expect(finding.message).toBe(
      'nocolumn.shop.orders: freshness could not be measured: column "updated_at" does not exist (columns: id, loaded_at); fix monitors[0].freshness.column [column_missing]',
    );
  });

  it('gives one error finding per configured check for a monitor glob that matches nothing', async () => {
    const context = sweepContext('nothing', {
      monitors: [
        { assets: 'nothing.shop.orders', freshness: { column: 'loaded_at' } },
        { assets: ['nothing.shop.ordres', 'elsewhere.shop.orders'], freshness: true, schema: true },
      ],
    });
    const { findings } = await sweep(context);
    const errors = findings.filter((finding) => finding.status === 'error');
    expect(errors.map((finding) => finding.check).sort()).toEqual(['freshness:nothing.shop.ordres', 'schema:nothing.shop.ordres']);
    expect(errors[0]?.message).toBe(
      "no table matches nothing.shop.ordres in warehouse nothing (monitors[1]): check the name, or the warehouse's `schemas` list",
    );
    expect(findingOf(findings, 'nothing.shop.orders').status).not.toBe('error');
  });

  it('evaluates a check once when two monitors select the same table (the first wins)', async () => {
    const context = sweepContext('twice', {
      monitors: [
        { assets: 'twice.shop.orders', freshness: { column: 'loaded_at', error_after: '1m' } },
        { assets: 'twice.shop.*', freshness: { column: 'loaded_at' } },
      ],
    });
    const { findings } = await sweep(context);
    const orders = findings.filter((finding) => finding.asset === 'twice.shop.orders');
    expect(orders).toHaveLength(1);
    expect(orders[0]?.status).toBe('fail');
  });

  it('narrows to --select', async () => {
    const context = sweepContext('selected', { monitors: [{ assets: 'selected.shop.*', freshness: { column: 'loaded_at' } }] });
    const { findings, tables } = await sweep(context, undefined, 'selected.shop.orders');
    expect(findings.map((finding) => finding.asset)).toEqual(['selected.shop.orders']);
    expect(tables).toBe(RELATIONS.length);
  });
});

describe('runSweep: records, metrics, failures and aborts', () => {
  it('persists every finding in the findings table at the sweep time', async () => {
    const context = sweepContext('persisted', {
      monitors: [
        { assets: 'persisted.shop.orders', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '1h' } },
        { assets: 'persisted.shop.paid_orders', freshness: true },
      ],
    });
    const { findings } = await sweep(context);
    const { rows } = await state.pool().query(
      "select check_id, kind, asset, column_name, status, observed, expected_low, expected_high, score, bucket, message, evaluated_at from findings where asset like 'persisted.%' order by asset",
    );
    expect(rows).toEqual(
      [...findings].sort((a, b) => a.asset.localeCompare(b.asset)).map((finding) => ({
        check_id: finding.check,
        kind: finding.kind,
        asset: finding.asset,
        column_name: finding.column ?? null,
        status: finding.status,
        observed: finding.observed,
        expected_low: finding.expected?.low ?? null,
        expected_high: finding.expected?.high ?? null,
        score: null,
        bucket: null,
        message: finding.message,
        evaluated_at: T0,
      })),
    );
    expect(rows.map((row) => row.status)).toEqual(['warn', 'error']);
  });

  it('updates pipewarden_findings (replacing the previous sweep\'s) and pipewarden_tables_monitored', async () => {
    let now = T0;
    const context = sweepContext('metered', {
      now: () => now,
      monitors: [
        { assets: 'metered.shop.*', exclude: ['metered.shop.empty_feed'], freshness: { column: 'loaded_at', warn_after: '5m', error_after: '1h' } },
        { assets: 'metered.shop.orders', schema: true },
      ],
    });
    await sweep(context);
    const findingsMetric = async () =>
      Object.fromEntries((await context.metrics.findings.get()).values.map((value) => [`${value.labels.kind}/${value.labels.status}`, value.value]));
    // orders: warn; paid_orders (a view with the column): warn too; customers lacks loaded_at: error.
    expect(await findingsMetric()).toEqual({ 'freshness/warn': 2, 'freshness/error': 1, 'schema/ok': 1 });
    const monitored = (await context.metrics.tablesMonitored.get()).values;
    expect(monitored).toEqual([{ labels: { warehouse: 'metered' }, value: 3 }]);
    expect((await context.metrics.warehouseUp.get()).values).toEqual([{ labels: { warehouse: 'metered' }, value: 1 }]);
    expect((await context.metrics.lastSweepTimestamp.get()).values).toEqual([{ labels: { warehouse: 'metered' }, value: T0.getTime() / 1000 }]);
    const text = await context.metrics.render();
    expect(text).toContain('pipewarden_findings{kind="freshness",status="warn"} 2');
    expect(text).toContain('pipewarden_tables_monitored{warehouse="metered"} 3');

    now = at(-8);
    await sweep(context);
    expect(await findingsMetric()).toEqual({ 'freshness/ok': 2, 'freshness/error': 1, 'schema/ok': 1 });
  });

  it('turns an unreachable warehouse into error findings for its monitors and pipewarden_warehouse_up 0, sweeping the others', async () => {
    const closedPort = await freePort();
    const context = sweepContext('up', {
      warehouses: { down: `postgres://nobody:secret@127.0.0.1:${closedPort}/nowhere`, up: warehouseDb.url },
      monitors: [
        { assets: ['down.shop.*', 'down.raw.*'], freshness: { column: 'loaded_at' }, schema: true },
        { assets: 'up.shop.orders', freshness: { column: 'loaded_at' } },
      ],
    });
    const result = await sweep(context);
    expect(result.tables).toBe(RELATIONS.length);
    const down = result.findings.filter((finding) => finding.asset.startsWith('down.'));
    expect(down.map((finding) => finding.check).sort()).toEqual(['freshness:down.raw.*', 'freshness:down.shop.*', 'schema:down.raw.*', 'schema:down.shop.*']);
    for (const finding of down) {
      expect(finding).toMatchObject({ status: 'error', observed: null });
      expect(finding.message).toMatch(/^could not measure down\.(shop|raw)\.\*: .+ \[warehouse_unreachable\]$/);
      expect(finding.message).not.toContain('secret');
    }
    expect(findingOf(result.findings, 'up.shop.orders')).toMatchObject({ status: 'ok', observed: 600 });
    const up = Object.fromEntries((await context.metrics.warehouseUp.get()).values.map((value) => [value.labels.warehouse, value.value]));
    expect(up).toEqual({ down: 0, up: 1 });
    expect(await tableState('down')).toEqual(new Map());
    const { rows } = await state.pool().query("select count(*)::int as n from findings where asset like 'down.%'");
    expect(rows[0].n).toBe(4);
  });

  it('stops between tables once the signal is aborted, and still records what it measured', async () => {
    const controller = new AbortController();
    // Abort while the first freshness read is in flight: that read completes, no further one starts.
    const freshnessReads: string[] = [];
    const context = sweepContext('aborted', {
      monitors: [{ assets: 'aborted.shop.*', exclude: ['aborted.shop.paid_orders', 'aborted.shop.customers'], freshness: { column: 'loaded_at' } }],
      onStatement: (sql) => {
        if (!sql.includes('AS max_timestamp')) return;
        freshnessReads.push(sql);
        controller.abort();
      },
    });
    const result = await sweep(context, controller.signal);
    expect(freshnessReads).toHaveLength(1);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]?.status).not.toBe('error');
    const { rows } = await state.pool().query("select count(*)::int as n from findings where asset like 'aborted.%'");
    expect(rows[0].n).toBe(1);
  });

  it('sweeps nothing when aborted before it starts', async () => {
    const controller = new AbortController();
    controller.abort();
    const context = sweepContext('early', { monitors: [{ assets: 'early.shop.*', freshness: true }] });
    expect(await sweep(context, controller.signal)).toMatchObject({ tables: 0, findings: [] });
    expect(await tableState('early')).toEqual(new Map());
  });
});

describe('the size of a table rebuilt on every run (volume without a column)', () => {
  it('is judged by the sweep that read its estimate: a collapse fails in that same sweep, and its bucket is stored', async () => {
    await write('create schema snap; create table snap.top_items (store_id int, sku_id int)');
    try {
      await write('insert into snap.top_items select g % 40, g from generate_series(1, 400) g; analyze snap.top_items');
      let now = T0;
      const context = sweepContext('sized', { now: () => now, monitors: [{ assets: 'sized.snap.top_items', volume: { bucket: '1m' } }] });
      for (let minute = 0; minute < 5; minute += 1) {
        now = at(minute);
        const steady = await sweep(context);
        expect(steady.findings.map((finding) => finding.status)).toEqual(['ok']);
      }
      expect((await sweep(context)).findings[0]).toMatchObject({ check: 'volume:sized.snap.top_items', observed: 400, expected: { low: expect.any(Number) } });

      await write('delete from snap.top_items; analyze snap.top_items');
      now = at(5);
      const [collapsed] = (await sweep(context)).findings;
      expect(collapsed).toMatchObject({ status: 'fail', observed: 0, bucket: at(5).toISOString() });
      expect(collapsed?.message).toMatch(/^sized\.snap\.top_items: 0 rows in the table \(catalog estimate\) at \d\d:05, expected \d+–\d+$/);
      expect(Object.fromEntries((await context.metrics.findings.get()).values.map((value) => [`${value.labels.kind}/${value.labels.status}`, value.value]))).toEqual({
        'volume/fail': 1,
      });

      // Failing again in the next bucket: stored again although the status did not change, so
      // both empty buckets stay out of the baseline.
      now = at(6);
      expect((await sweep(context)).findings[0]?.status).toBe('fail');
      const { rows } = await state.pool().query<{ bucket: Date; status: string }>(
        "select bucket, status from findings where check_id = 'volume:sized.snap.top_items' and status = 'fail' order by bucket",
      );
      expect(rows.map((row) => row.bucket.toISOString())).toEqual([at(5).toISOString(), at(6).toISOString()]);
    } finally {
      await write('drop schema snap cascade');
    }
  });
});
