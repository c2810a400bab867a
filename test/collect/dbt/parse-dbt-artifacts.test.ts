import { describe, expect, it } from 'vitest';
import { DbtArtifactError } from '../../../src/collect/dbt/dbt-artifact-error.ts';
import { parseCatalog } from '../../../src/collect/dbt/dbt-catalog.ts';
import { parseManifest } from '../../../src/collect/dbt/dbt-manifest.ts';
import { parseRunResults } from '../../../src/collect/dbt/dbt-run-results.ts';
import { parseSourceFreshness } from '../../../src/collect/dbt/dbt-source-freshness.ts';
import { readFixture } from './dbt-fixtures.ts';

function parseError(parse: () => unknown): DbtArtifactError {
  try {
    parse();
  } catch (error) {
    if (error instanceof DbtArtifactError) return error;
    throw error;
  }
  throw new Error('expected the artifact to be refused');
}

describe('every real fixture version parses', () => {
  it.each([
    ['manifest__v7__dbt-1.3.2__dbt-core-functional-state.json', 7, 8],
    ['manifest__v10__dbt-1.6.6__dbt-core-functional-state.json', 10, 9],
    ['manifest__v12__dbt-1.11.7__jaffle_shop.json', 12, 56],
  ])('%s', (name, version, nodes) => {
    const { manifest, warnings } = parseManifest(name, readFixture(name));
    expect(manifest.version).toBe(version);
    expect(manifest.nodes.size).toBe(nodes);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['run_results__v4__dbt-1.0.0__jaffle_shop__with_error.json', 4, 29],
    ['run_results__v4__dbt-1.6.7__dbt-core-functional.json', 4, 2],
    ['run_results__v5__dbt-1.7.0__jaffle_shop.json', 5, 58],
    ['run_results__v6__dbt-1.9.0__jaffle_shop.json', 6, 61],
    ['run_results__v6__dbt-1.9.0a1__dbt-core-functional.json', 6, 2],
  ])('%s', (name, version, results) => {
    const { runResults, warnings } = parseRunResults(name, readFixture(name));
    expect(runResults.version).toBe(version);
    expect(runResults.results).toHaveLength(results);
    expect(warnings).toEqual([]);
  });

  it('sources v3 (ticketswap): one passing source with its criteria in dbt units', () => {
    const { sources } = parseSourceFreshness('sources.json', readFixture('sources__v3__dbt-1.9.1__ticketswap__pass.json'));
    expect(sources.version).toBe(3);
    expect(sources.results).toEqual([
      {
        uniqueId: 'sample_source',
        status: 'pass',
        maxLoadedAt: '2025-01-01T11:02:27.087519+00:00',
        snapshottedAt: '2025-01-01T11:22:36+00:00',
        maxLoadedAtTimeAgoInS: 1208.912481,
        criteria: { warnAfter: { count: 24, period: 'hour' }, errorAfter: null, filter: null },
        error: null,
      },
    ]);
  });

  it('catalog v1: relations with their columns in warehouse order', () => {
    const { catalog } = parseCatalog('catalog.json', readFixture('catalog__v1__dbt-1.11.7__jaffle_shop.json'));
    expect(catalog.version).toBe(1);
    const orders = catalog.entries.get('model.jaffle_shop.orders');
    expect(orders).toMatchObject({ database: 'jaffle_shop', schema: 'main', name: 'orders' });
    expect(orders?.columns[0]).toMatchObject({ name: 'order_id', index: 1 });
    expect(orders?.columns.map((column) => column.index)).toEqual([...orders!.columns.keys()].map((i) => i + 1));
  });
});

describe('manifest fields pipewarden uses', () => {
  const v12 = parseManifest('manifest.json', readFixture('manifest__v12__dbt-1.11.7__jaffle_shop.json')).manifest;

  it('keeps where a model lives and what it depends on', () => {
    expect(v12.nodes.get('model.jaffle_shop.orders')).toMatchObject({
      resourceType: 'model',
      database: 'jaffle_shop',
      schema: 'main',
      alias: 'orders',
      relationName: '"jaffle_shop"."main"."orders"',
      materialized: 'table',
      enabled: true,
      dependsOn: ['model.jaffle_shop.stg_orders', 'model.jaffle_shop.order_items'],
    });
  });

  it('knows what a test tests, even a relationships test that depends on two models', () => {
    const test = v12.nodes.get('test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_stg_customers_.918495ce16');
    expect(test?.test).toEqual({
      testName: 'relationships',
      columnName: 'customer_id',
      attachedNode: 'model.jaffle_shop.orders',
      testedNode: 'model.jaffle_shop.orders',
    });
    // A generic test in a .yml compiles to `<yml path>/<test path>`, as dbt writes it.
    expect(test?.compiledPath).toBe('target/compiled/jaffle_shop/models/marts/orders.yml/relationships_orders_0389c224a99a98c0b58aedb753f052f0.sql');
  });

  it('finds the tested node from the `model` argument in manifests older than attached_node', () => {
    const classic = parseManifest('manifest.json', readFixture('hand__manifest__v7__jaffle_shop-classic.json')).manifest;
    const test = classic.nodes.get('test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2');
    expect(test?.test?.attachedNode).toBeNull();
    expect(test?.dependsOn[0]).toBe('model.jaffle_shop.customers');
    expect(test?.test?.testedNode).toBe('model.jaffle_shop.orders');
  });

  it('reads sources with loaded_at_field and identifier', () => {
    expect(v12.nodes.get('source.jaffle_shop.ecom.raw_orders')).toMatchObject({
      resourceType: 'source',
      schema: 'raw',
      identifier: 'raw_orders',
      loadedAtField: 'ordered_at',
      freshness: null,
    });
  });

  it('reads exposures with their owners (v7 and v10)', () => {
    for (const name of ['manifest__v7__dbt-1.3.2__dbt-core-functional-state.json', 'manifest__v10__dbt-1.6.6__dbt-core-functional-state.json']) {
      const { manifest } = parseManifest(name, readFixture(name));
      expect([...manifest.exposures.values()]).toEqual([
        {
          uniqueId: 'exposure.test.simple_exposure',
          name: 'simple_exposure',
          label: null,
          type: 'dashboard',
          owner: { name: null, email: 'something@example.com' },
          url: null,
          maturity: null,
          dependsOn: ['source.test.my_source.my_table', 'model.test.my_model'],
        },
      ]);
    }
  });
});

describe('dbt 1.12 and dbt Fusion variants', () => {
  const manifest = parseManifest('manifest.json', readFixture('hand__manifest__v12__dbt-1.12-extra-fields.json')).manifest;

  it('ignores fields the published schemas do not have', () => {
    const { runResults, warnings } = parseRunResults('run_results.json', readFixture('hand__run_results__v6__dbt-1.12-extra-fields.json'));
    expect(warnings).toEqual([]);
    expect(runResults.results.map((result) => result.status)).toEqual([
      'error', 'skipped', 'success', 'fail', 'warn', 'partial success', 'no-op', 'success',
    ]);
    expect(runResults.results[0]).toMatchObject({ hasCompiledCode: true, executeStartedAt: '2025-06-02T07:59:01.000000Z', relationName: '"analytics"."Marts"."Orders"' });
  });

  it('owner from meta.owner, else from the node group; meta.pipewarden kept as written', () => {
    expect(manifest.nodes.get('model.shop.orders')).toMatchObject({ owner: 'orders-team', pipewarden: { run: { severity: 'page' }, freshness: false }, tags: ['daily'] });
    expect(manifest.nodes.get('model.shop.top_items')).toMatchObject({ owner: 'merch-team', group: 'merchandising' });
    expect(manifest.nodes.get('model.shop.orders')?.materialized).toBe('incremental');
  });

  it('takes a source freshness found only under config (manifest v12)', () => {
    expect(manifest.nodes.get('source.shop.raw.inventory_feed')).toMatchObject({
      loadedAtField: 'loaded_at',
      freshness: { warnAfter: { count: 2, period: 'hour' }, errorAfter: { count: 1, period: 'day' }, filter: null },
      owner: 'inventory-team',
    });
  });

  it('reads Fusion run_results without failures or compiled_code, lower-casing statuses', () => {
    const { runResults } = parseRunResults('run_results.json', readFixture('hand__run_results__v6__fusion.json'));
    expect(runResults.results.map((result) => [result.status, result.failures, result.hasCompiledCode])).toEqual([
      ['error', null, false],
      ['skipped', null, false],
      ['success', null, false],
      ['fail', null, false],
    ]);
  });

  it('reads Fusion sources.json with capitalised statuses and periods', () => {
    const { sources } = parseSourceFreshness('sources.json', readFixture('hand__sources__v3__fusion-capitalised.json'));
    expect(sources.results.map((result) => result.status)).toEqual(['error', 'warn', 'pass']);
    expect(sources.results[0]?.criteria).toEqual({ warnAfter: { count: 2, period: 'hour' }, errorAfter: { count: 1, period: 'day' }, filter: null });
  });

  it('keeps hostile names as data', () => {
    expect(manifest.nodes.get('model.shop.hostile')).toMatchObject({ alias: 'orders"; rm -rf / #', schema: "we'ird;drop", owner: "o'hara; rm -rf ~" });
  });
});

describe('versions', () => {
  const withVersion = (url: string): string =>
    JSON.stringify({ metadata: { dbt_schema_version: url, generated_at: '2026-01-01T00:00:00Z' }, results: [{ unique_id: 'model.a.b', status: 'Success', brand_new: 1 }] });

  it('reads an unknown newer version leniently and says so', () => {
    const { runResults, warnings } = parseRunResults('target/run_results.json', withVersion('https://schemas.getdbt.com/dbt/run-results/v9.json'));
    expect(runResults.results[0]?.status).toBe('success');
    expect(warnings).toEqual([
      'target/run_results.json: run-results v9 is outside the versions pipewarden knows (v4–v6); read leniently, only the fields pipewarden uses were checked',
    ]);
  });

  it('refuses a file that is another kind of artifact, naming both', () => {
    const error = parseError(() => parseRunResults('target/run_results.json', withVersion('https://schemas.getdbt.com/dbt/manifest/v12.json')));
    expect(error.message).toBe(
      'target/run_results.json: $.metadata.dbt_schema_version: this is a dbt manifest artifact, not a run-results; check which file is at this path',
    );
  });

  it('parses the ~1 MB v12 manifest quickly', () => {
    const text = readFixture('manifest__v12__dbt-1.11.7__jaffle_shop.json');
    parseManifest('warm-up', text);
    const started = performance.now();
    const rounds = 10;
    for (let round = 0; round < rounds; round += 1) parseManifest('manifest.json', text);
    const perParse = (performance.now() - started) / rounds;
    console.log(`manifest v12 (${(text.length / 1e6).toFixed(2)} MB): ${perParse.toFixed(1)} ms per parse`);
    expect(perParse).toBeLessThan(250);
  });
});

describe('hand-broken files give a clear error naming file and JSON path', () => {
  it('not JSON', () => {
    const error = parseError(() => parseRunResults('target/run_results.json', readFixture('broken__not-json.json')));
    expect(error.file).toBe('target/run_results.json');
    expect(error.path).toBe('$');
    expect(error.message).toMatch(/^target\/run_results\.json: \$: not valid JSON \(.+\); dbt may still be writing it or it was truncated/);
  });

  it('run_results without results', () => {
    const error = parseError(() => parseRunResults('target/run_results.json', readFixture('broken__run_results__no-results.json')));
    expect(error.path).toBe('$.results');
    expect(error.message).toBe(
      'target/run_results.json: $.results: Invalid input: expected array, received undefined; pipewarden needs this field to read a dbt run-results — regenerate the file with dbt or fix it by hand',
    );
  });

  it('a result without unique_id', () => {
    const error = parseError(() => parseRunResults('target/run_results.json', readFixture('broken__run_results__result-without-unique-id.json')));
    expect(error.path).toBe('$.results[1].unique_id');
    expect(error.message).toContain('target/run_results.json: $.results[1].unique_id: Invalid input: expected string, received undefined');
  });

  it('a manifest whose nodes is an array', () => {
    const error = parseError(() => parseManifest('target/manifest.json', readFixture('broken__manifest__nodes-array.json')));
    expect(error.path).toBe('$.nodes');
    expect(error.message).toContain('target/manifest.json: $.nodes: Invalid input: expected record, received array');
  });

  it('a JSON document that is not an object', () => {
    const error = parseError(() => parseCatalog('target/catalog.json', '[1, 2]'));
    expect(error.message).toBe('target/catalog.json: $: expected a JSON object (a dbt catalog artifact), found an array');
  });

  it('names a key with dots or quotes in brackets', () => {
    const text = JSON.stringify({ metadata: {}, nodes: { 'model.a."b"': { unique_id: 'model.a.b', name: 'b' } } });
    const error = parseError(() => parseManifest('m.json', text));
    expect(error.path).toBe('$.nodes["model.a.\\"b\\""].resource_type');
  });
});
