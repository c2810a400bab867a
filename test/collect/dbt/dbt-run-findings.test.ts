import { describe, expect, it } from 'vitest';
import { assetKeyFor } from '../../../src/collect/dbt/asset-key-for.ts';
import { parseManifest } from '../../../src/collect/dbt/dbt-manifest.ts';
import { dbtRunFindings } from '../../../src/collect/dbt/dbt-run-findings.ts';
import { parseRunResults } from '../../../src/collect/dbt/dbt-run-results.ts';
import { readFixture } from './dbt-fixtures.ts';

const NOW = new Date('2025-06-02T10:00:00Z');
const classic = parseManifest('manifest.json', readFixture('hand__manifest__v7__jaffle_shop-classic.json')).manifest;
const shop = parseManifest('manifest.json', readFixture('hand__manifest__v12__dbt-1.12-extra-fields.json')).manifest;
const runResults = (name: string) => parseRunResults(name, readFixture(name)).runResults;
const notOk = <T extends { status: string }>(findings: T[]): T[] => findings.filter((finding) => finding.status !== 'ok');

describe('the jaffle_shop with_error run', () => {
  const findings = dbtRunFindings({
    runResults: runResults('run_results__v4__dbt-1.0.0__jaffle_shop__with_error.json'),
    manifest: classic,
    mapping: { warehouse: 'bq' },
    now: new Date('2021-12-07T12:49:34.224Z'),
  });

  it('has the one failing model, with the database error on one line', () => {
    expect(notOk(findings)).toEqual([
      {
        check: 'run:bq.dbt_jaffle.test_insert_overwrite',
        kind: 'run',
        asset: 'bq.dbt_jaffle.test_insert_overwrite',
        status: 'fail',
        observed: expect.any(Number),
        message: expect.stringMatching(
          /^bq\.dbt_jaffle\.test_insert_overwrite: dbt model model\.jaffle_shop\.test_insert_overwrite failed: Database Error in model test_insert_overwrite \(models\/test_insert_overwrite\.sql\) Query error: No matching signature .*\(run 2021-12-07T10:49:34Z, 2h ago\)$/,
        ),
      },
    ]);
    expect(findings[0]?.message).not.toContain('\n');
  });

  it('says ok for every seed, model and test that passed, so their incidents can resolve', () => {
    expect(findings).toHaveLength(29);
    expect(findings.filter((finding) => finding.status === 'ok')).toHaveLength(28);
    expect(findings.find((finding) => finding.check === 'run:bq.dbt_jaffle.orders:unique_orders_order_id')).toMatchObject({
      asset: 'bq.dbt_jaffle.orders',
      status: 'ok',
      observed: 0,
    });
  });
});

describe('failing and warning tests, and nodes skipped after a failure', () => {
  const findings = dbtRunFindings({
    runResults: runResults('hand__run_results__v4__jaffle_shop__fail-warn-skip.json'),
    manifest: classic,
    mapping: { warehouse: 'bq' },
    now: new Date('2021-12-07T10:50:34.224Z'),
  });
  const byCheck = new Map(findings.map((finding) => [finding.check, finding]));

  it('fails a test on the asset it tests, with the failing rows and where the compiled SQL is', () => {
    expect(byCheck.get('run:bq.dbt_jaffle.stg_orders:unique_stg_orders_order_id')).toEqual({
      check: 'run:bq.dbt_jaffle.stg_orders:unique_stg_orders_order_id',
      kind: 'run',
      asset: 'bq.dbt_jaffle.stg_orders',
      status: 'fail',
      observed: 3,
      message:
        'bq.dbt_jaffle.stg_orders: dbt test unique_stg_orders_order_id failed with 3 failing rows (Got 3 results, configured to fail if != 0); ' +
        'compiled SQL: target/compiled/jaffle_shop/models/staging/schema.yml/unique_stg_orders_order_id.sql (run 2021-12-07T10:49:34Z, 1m ago)',
    });
  });

  it('warns for a test that warned', () => {
    expect(byCheck.get('run:bq.dbt_jaffle.stg_customers:not_null_stg_customers_customer_id')).toMatchObject({ status: 'warn', observed: 2 });
  });

  it('warns for a model skipped after an upstream failure, naming that upstream', () => {
    expect(byCheck.get('run:bq.dbt_jaffle.orders')).toMatchObject({
      status: 'warn',
      message: 'bq.dbt_jaffle.orders: dbt model model.jaffle_shop.orders was skipped because upstream model.jaffle_shop.stg_payments failed (run 2021-12-07T10:49:34Z, 1m ago)',
    });
    expect(byCheck.get('run:bq.dbt_jaffle.customers')?.status).toBe('warn');
  });

  it('says nothing for skipped tests: they measured nothing, and the failure upstream pages', () => {
    expect(findings.filter((finding) => finding.check.includes(':unique_orders_order_id'))).toEqual([]);
    expect(notOk(findings).map((finding) => [finding.check, finding.status])).toEqual([
      ['run:bq.dbt_jaffle.stg_payments', 'fail'],
      ['run:bq.dbt_jaffle.stg_customers:not_null_stg_customers_customer_id', 'warn'],
      ['run:bq.dbt_jaffle.stg_orders:unique_stg_orders_order_id', 'fail'],
      ['run:bq.dbt_jaffle.test_insert_overwrite', 'fail'],
      ['run:bq.dbt_jaffle.orders', 'warn'],
      ['run:bq.dbt_jaffle.customers', 'warn'],
    ]);
  });

  it('each test is its own check on the tested asset', () => {
    const onOrders = findings.filter((finding) => finding.asset === 'bq.dbt_jaffle.stg_orders');
    expect(new Set(onOrders.map((finding) => finding.check)).size).toBe(onOrders.length);
  });
});

describe('dbt 1.12 and Fusion runs', () => {
  const mapping = { warehouse: 'wh' };

  it('1.12: unknown statuses and fields do not stop the findings; operations are not assets', () => {
    const findings = dbtRunFindings({ runResults: runResults('hand__run_results__v6__dbt-1.12-extra-fields.json'), manifest: shop, mapping, now: NOW });
    expect(findings.map((finding) => [finding.check, finding.status])).toEqual([
      ['run:wh.marts.orders', 'fail'],
      ['run:wh.marts.top_items', 'warn'],
      [`run:wh.we'ird;drop.orders"; rm -rf / #`, 'ok'],
      ['run:wh.marts.orders:not_null_orders_order_id', 'fail'],
      [`run:wh.we'ird;drop.orders"; rm -rf / #:assert_hostile_has_rows`, 'warn'],
      ['run:model.shop.partitioned', 'warn'],
      ['run:model.shop.unchanged', 'ok'],
    ]);
    expect(findings[0]?.message).toBe(
      'wh.marts.orders: dbt model model.shop.orders failed: Database Error in model orders (models/orders.sql) relation "raw.inventory_feed" does not exist LINE 3: from "analytics"."RAW"."Inventory_Feed" (run 2025-06-02T08:00:00Z, 2h ago)',
    );
    // A singular test compiles to its own file.
    expect(findings[4]?.message).toContain('compiled SQL: target/compiled/shop/tests/assert_hostile_has_rows.sql');
  });

  it('Fusion: a failing test without a failures count still fails, with dbt’s message', () => {
    const findings = dbtRunFindings({ runResults: runResults('hand__run_results__v6__fusion.json'), manifest: shop, mapping, now: NOW });
    expect(findings.map((finding) => finding.status)).toEqual(['fail', 'warn', 'ok', 'fail']);
    expect(findings[3]).toMatchObject({
      observed: null,
      message:
        'wh.marts.orders: dbt test not_null_orders_order_id failed (Got 7 results, configured to fail if != 0); ' +
        'compiled SQL: target/compiled/shop/models/orders.yml/not_null_orders_order_id.sql (run 2025-06-02T08:00:00Z, 2h ago)',
    });
  });

  it('without a manifest, assets are unique_ids and a test is keyed by its own name', () => {
    const findings = dbtRunFindings({ runResults: runResults('hand__run_results__v6__fusion.json'), mapping, now: NOW });
    expect(findings.map((finding) => finding.check)).toEqual([
      'run:model.shop.orders',
      'run:model.shop.top_items',
      'run:model.shop.hostile',
      'run:test.shop.not_null_orders_order_id.1a2b3c4d5e:not_null_orders_order_id',
    ]);
    expect(findings[0]?.message).toBe(
      'model.shop.orders: dbt model failed: Database Error in model orders: relation "raw.inventory_feed" does not exist (run 2025-06-02T08:00:00Z, 2h ago)',
    );
    expect(findings[1]?.message).toContain('was skipped (dbt skips a node when something upstream of it failed)');
  });
});

describe('unit tests (dbt 1.8+)', () => {
  it('a failing unit test fails on the model it checks, as its own check', () => {
    const jaffle = parseManifest('manifest.json', readFixture('manifest__v12__dbt-1.11.7__jaffle_shop.json')).manifest;
    const text = JSON.stringify({
      metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json', generated_at: '2025-06-02T08:00:00Z' },
      results: [
        {
          unique_id: 'unit_test.jaffle_shop.stg_locations.test_does_location_opened_at_trunc_to_date',
          status: 'fail',
          failures: 1,
          message: 'actual differs from expected',
          execution_time: 0.4,
        },
      ],
    });
    const [finding] = dbtRunFindings({ runResults: parseRunResults('run_results.json', text).runResults, manifest: jaffle, mapping: { warehouse: 'duck' }, now: NOW });
    expect(finding).toEqual({
      check: 'run:duck.main.stg_locations:test_does_location_opened_at_trunc_to_date',
      kind: 'run',
      asset: 'duck.main.stg_locations',
      status: 'fail',
      observed: 1,
      message:
        'duck.main.stg_locations: dbt unit test test_does_location_opened_at_trunc_to_date failed with 1 failing row (actual differs from expected) (run 2025-06-02T08:00:00Z, 2h ago)',
    });
  });
});

describe('assetKeyFor', () => {
  const node = (uniqueId: string) => shop.nodes.get(uniqueId)!;

  it('is warehouse.schema.alias, folded to lower case as PostgreSQL folds unquoted names', () => {
    expect(assetKeyFor(node('model.shop.orders'), { warehouse: 'wh' })).toBe('wh.marts.orders');
  });

  it('uses the identifier for a source', () => {
    expect(assetKeyFor(node('source.shop.raw.inventory_feed'), { warehouse: 'wh' })).toBe('wh.raw.inventory_feed');
  });

  it('is the unique_id without a warehouse, for ephemeral models and for tests', () => {
    expect(assetKeyFor(node('model.shop.orders'), {})).toBe('model.shop.orders');
    expect(assetKeyFor(node('model.shop.scratch'), { warehouse: 'wh' })).toBe('model.shop.scratch');
    expect(assetKeyFor(node('test.shop.not_null_orders_order_id.1a2b3c4d5e'), { warehouse: 'wh' })).toBe('test.shop.not_null_orders_order_id.1a2b3c4d5e');
  });

  it('keeps hostile names as data', () => {
    expect(assetKeyFor(node('model.shop.hostile'), { warehouse: 'wh' })).toBe(`wh.we'ird;drop.orders"; rm -rf / #`);
  });
});
