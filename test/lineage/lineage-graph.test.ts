// lineageFromManifest on real manifests (jaffle_shop v12, dbt-core's v7 and v10 state) and on
// hand-written ones: which dbt nodes become lineage nodes, how ephemeral models are collapsed,
// and that the graph is the same whatever order the manifest lists things in.

import { describe, expect, it } from 'vitest';
import { parseManifest, type DbtManifest, type DbtNode } from '../../src/collect/dbt/dbt-manifest.ts';
import { lineageFromManifest, type LineageGraph } from '../../src/lineage/lineage-graph.ts';
import { readFixture } from '../collect/dbt/dbt-fixtures.ts';
import { readLineageFixture } from './lineage-fixtures.ts';

function manifestOf(name: string): DbtManifest {
  return parseManifest(name, readFixture(name)).manifest;
}

function downstreamOf(graph: LineageGraph, asset: string): string[] {
  return graph.edges.filter((edge) => edge.upstream === asset).map((edge) => edge.downstream);
}

function upstreamOf(graph: LineageGraph, asset: string): string[] {
  return graph.edges.filter((edge) => edge.downstream === asset).map((edge) => edge.upstream);
}

describe('jaffle_shop (manifest v12, dbt 1.11)', () => {
  const manifest = manifestOf('manifest__v12__dbt-1.11.7__jaffle_shop.json');

  it('keys mapped relations by warehouse table and connects the known models', () => {
    const graph = lineageFromManifest(manifest, { warehouse: 'wh' }, 'jaffle');
    expect(graph.origin).toBe('jaffle');
    expect(downstreamOf(graph, 'wh.main.stg_orders')).toEqual(['wh.main.order_items', 'wh.main.orders']);
    expect(downstreamOf(graph, 'wh.main.orders')).toEqual(['wh.main.customers']);
    expect(upstreamOf(graph, 'wh.main.customers')).toEqual(['wh.main.orders', 'wh.main.stg_customers']);
    expect(upstreamOf(graph, 'wh.main.order_items')).toEqual([
      'wh.main.stg_order_items',
      'wh.main.stg_orders',
      'wh.main.stg_products',
      'wh.main.stg_supplies',
    ]);
    // jaffle_shop declares its seeds as sources too: one table, one node, described as the seed
    // that builds it, and the staging model reads it.
    expect(graph.nodes.filter((node) => node.asset === 'wh.raw.raw_orders')).toEqual([
      { asset: 'wh.raw.raw_orders', kind: 'seed', name: 'raw_orders', dbtUniqueId: 'seed.jaffle_shop.raw_orders', owner: null, exposureType: null, url: null },
    ]);
    expect(upstreamOf(graph, 'wh.main.stg_orders')).toEqual(['wh.raw.raw_orders']);
  });

  it('has every enabled model, seed and source and nothing else', () => {
    const graph = lineageFromManifest(manifest, {}, 'jaffle');
    const count = (kind: string): number => graph.nodes.filter((node) => node.kind === kind).length;
    expect([count('model'), count('seed'), count('snapshot'), count('source'), count('exposure')]).toEqual([13, 7, 0, 6, 0]);
    expect(graph.nodes).toHaveLength(26);
    // Tests and unit tests depend on models but are not lineage.
    expect(graph.nodes.some((node) => node.dbtUniqueId.startsWith('test.') || node.dbtUniqueId.startsWith('unit_test.'))).toBe(false);
    expect(downstreamOf(graph, 'model.jaffle_shop.stg_orders')).toEqual(['model.jaffle_shop.order_items', 'model.jaffle_shop.orders']);
    expect(upstreamOf(graph, 'model.jaffle_shop.stg_orders')).toEqual(['source.jaffle_shop.ecom.raw_orders']);
  });
});

describe('dbt-core state manifests (v7, v10)', () => {
  it.each(['manifest__v7__dbt-1.3.2__dbt-core-functional-state.json', 'manifest__v10__dbt-1.6.6__dbt-core-functional-state.json'])(
    '%s: the exposure is a leaf with its owner',
    (name) => {
      const graph = lineageFromManifest(manifestOf(name), {}, name);
      expect(graph.nodes.map((node) => node.kind).sort()).toEqual(
        name.includes('v10') ? ['exposure', 'model', 'model', 'seed', 'snapshot', 'source'] : ['exposure', 'model', 'seed', 'snapshot', 'source'],
      );
      expect(graph.nodes.find((node) => node.kind === 'exposure')).toEqual({
        asset: 'exposure.test.simple_exposure',
        kind: 'exposure',
        name: 'simple_exposure',
        dbtUniqueId: 'exposure.test.simple_exposure',
        owner: 'something@example.com',
        exposureType: 'dashboard',
        url: null,
      });
      expect(upstreamOf(graph, 'exposure.test.simple_exposure')).toEqual(['model.test.my_model', 'source.test.my_source.my_table']);
      expect(downstreamOf(graph, 'exposure.test.simple_exposure')).toEqual([]);
      expect(downstreamOf(graph, 'seed.test.my_seed')).toEqual(['snapshot.test.snapshot_seed']);
    },
  );
});

describe('a dbt 1.12-style manifest (groups, quotes in names)', () => {
  it('takes owners from meta, groups and exposure emails, and keeps hostile names literal', () => {
    const graph = lineageFromManifest(manifestOf('hand__manifest__v12__dbt-1.12-extra-fields.json'), { warehouse: 'wh' }, 'shop');
    const hostile = `wh.we'ird;drop.orders"; rm -rf / #`;
    expect(graph.nodes.map((node) => [node.asset, node.kind, node.owner])).toEqual([
      ['exposure.shop.account_managers', 'exposure', 'Account Management'],
      ['exposure.shop.retailer_app', 'exposure', 'apps@example.com'],
      ['wh.marts.orders', 'model', 'orders-team'],
      ['wh.marts.top_items', 'model', 'merch-team'],
      ['wh.raw.inventory_feed', 'source', 'inventory-team'],
      ['wh.raw.stores', 'source', null],
      [hostile, 'model', "o'hara; rm -rf ~"],
    ]);
    expect(graph.edges).toEqual([
      { upstream: 'wh.marts.orders', downstream: 'wh.marts.top_items' },
      { upstream: 'wh.marts.orders', downstream: hostile },
      { upstream: 'wh.marts.top_items', downstream: 'exposure.shop.account_managers' },
      { upstream: 'wh.marts.top_items', downstream: 'exposure.shop.retailer_app' },
      { upstream: 'wh.raw.inventory_feed', downstream: 'wh.marts.orders' },
    ]);
    expect(graph.nodes[0]).toMatchObject({ name: 'Account managers dashboard', exposureType: 'dashboard', url: 'https://bi.example.com/d/42' });
    expect(graph.nodes[1]).toMatchObject({ name: 'retailer_app', exposureType: 'application', url: null });
  });
});

describe('the marketplace scenario', () => {
  const manifest = parseManifest('marketplace-manifest.json', readLineageFixture('marketplace-manifest.json')).manifest;

  it('collapses the ephemeral model, drops tests and disabled models, and keeps exposures as leaves', () => {
    const graph = lineageFromManifest(manifest, { warehouse: 'analytics' }, 'marketplace');
    expect(graph.nodes.map((node) => [node.asset, node.kind, node.name, node.owner])).toEqual([
      ['analytics.marts.carried_counts', 'model', 'carried_counts', 'merchandising'],
      ['analytics.marts.top_items_not_carried', 'model', 'top_items_not_carried', 'merchandising'],
      ['analytics.raw.store_inventory', 'source', 'store_inventory', 'inventory-feed'],
      ['analytics.staging.stg_inventory', 'model', 'stg_inventory', 'inventory-team'],
      ['exposure.marketplace.account_managers', 'exposure', "Account managers' dashboard", 'account-management'],
      ['exposure.marketplace.crm_email_sync', 'exposure', 'CRM email sync', 'crm@example.com'],
    ]);
    expect(graph.edges).toEqual([
      { upstream: 'analytics.marts.carried_counts', downstream: 'analytics.marts.top_items_not_carried' },
      { upstream: 'analytics.marts.carried_counts', downstream: 'exposure.marketplace.crm_email_sync' },
      { upstream: 'analytics.marts.top_items_not_carried', downstream: 'exposure.marketplace.account_managers' },
      // Through the ephemeral int_carried_skus, which is not a table.
      { upstream: 'analytics.raw.store_inventory', downstream: 'analytics.marts.carried_counts' },
      { upstream: 'analytics.raw.store_inventory', downstream: 'analytics.staging.stg_inventory' },
      { upstream: 'analytics.raw.store_inventory', downstream: 'exposure.marketplace.crm_email_sync' },
      // Listed twice in depends_on, one edge.
      { upstream: 'analytics.staging.stg_inventory', downstream: 'analytics.marts.top_items_not_carried' },
    ]);
    expect(graph.nodes.find((node) => node.kind === 'exposure')).toMatchObject({ exposureType: 'dashboard', url: 'https://bi.example.com/dashboards/42' });
  });

  it('is the same graph whatever order the manifest lists its nodes in', () => {
    const reversed: DbtManifest = {
      ...manifest,
      nodes: new Map([...manifest.nodes].reverse()),
      exposures: new Map([...manifest.exposures].reverse()),
    };
    expect(lineageFromManifest(reversed, { warehouse: 'analytics' }, 'm')).toEqual(lineageFromManifest(manifest, { warehouse: 'analytics' }, 'm'));
  });
});

describe('hand-made manifests', () => {
  function node(uniqueId: string, dependsOn: string[], extra: Partial<DbtNode> = {}): [string, DbtNode] {
    const [resourceType = 'model', , name = uniqueId] = uniqueId.split('.');
    return [
      uniqueId,
      {
        uniqueId,
        resourceType,
        name,
        packageName: 'p',
        database: 'db',
        schema: 'public',
        alias: name,
        identifier: resourceType === 'source' ? name : null,
        relationName: null,
        dependsOn,
        materialized: resourceType === 'model' ? 'table' : null,
        enabled: true,
        tags: [],
        meta: {},
        owner: null,
        pipewarden: undefined,
        group: null,
        originalFilePath: null,
        compiledPath: null,
        loadedAtField: null,
        freshness: null,
        test: null,
        ...extra,
      },
    ];
  }

  function manifestWith(nodes: [string, DbtNode][]): DbtManifest {
    return { version: 12, generatedAt: null, projectName: 'p', nodes: new Map(nodes), exposures: new Map() };
  }

  it('collapses a chain of ephemeral models, and an ephemeral cycle ends', () => {
    const graph = lineageFromManifest(
      manifestWith([
        node('model.p.a', []),
        node('model.p.e1', ['model.p.e2', 'model.p.a'], { materialized: 'ephemeral' }),
        node('model.p.e2', ['model.p.e1'], { materialized: 'ephemeral' }),
        node('model.p.b', ['model.p.e2']),
      ]),
      {},
      'hand',
    );
    expect(graph.nodes.map((n) => n.asset)).toEqual(['model.p.a', 'model.p.b']);
    expect(graph.edges).toEqual([{ upstream: 'model.p.a', downstream: 'model.p.b' }]);
  });

  it('keeps a hand-made cycle between tables as edges (the store walks it safely)', () => {
    const graph = lineageFromManifest(manifestWith([node('model.p.a', ['model.p.b']), node('model.p.b', ['model.p.a'])]), {}, 'hand');
    expect(graph.edges).toEqual([
      { upstream: 'model.p.a', downstream: 'model.p.b' },
      { upstream: 'model.p.b', downstream: 'model.p.a' },
    ]);
  });

  it('takes hostile names as they are', () => {
    const hostile = `x'; drop table lineage_nodes; -- ;rm -rf /`;
    const graph = lineageFromManifest(manifestWith([node('model.p.a', [], { alias: hostile, schema: 'S"c' }), node('model.p.b', ['model.p.a'])]), { warehouse: 'w' }, 'hand');
    expect(graph.edges).toEqual([{ upstream: `w.s"c.${hostile}`, downstream: 'w.public.b' }]);
  });
});
