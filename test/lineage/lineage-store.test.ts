// The lineage tables in real PostgreSQL: replacing one origin's graph (atomically, per origin,
// and safely from two replicas at once) and walking the union of every origin's edges down
// (blast radius) and up (root cause), through cycles and past a limit.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/collect/dbt/dbt-manifest.ts';
import { lineageFromManifest, type LineageGraph, type LineageNode } from '../../src/lineage/lineage-graph.ts';
import { replaceLineage, selectDownstream, selectLineageNode, selectUpstream } from '../../src/store/lineage.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { readLineageFixture } from './lineage-fixtures.ts';

const NOW = new Date('2026-01-05T06:00:00Z');
const LATER = new Date('2026-01-05T07:00:00Z');
const WIDE = { maxDepth: 50, limit: 100 };

function model(asset: string, extra: Partial<LineageNode> = {}): LineageNode {
  return { asset, kind: 'model', name: asset, dbtUniqueId: `model.p.${asset}`, owner: null, exposureType: null, url: null, ...extra };
}

/** A graph from `a>b` pairs; every named asset is a model node. */
function graphOf(origin: string, pairs: string[], extraNodes: LineageNode[] = []): LineageGraph {
  const edges = pairs.map((pair) => {
    const [upstream = '', downstream = ''] = pair.split('>');
    return { upstream, downstream };
  });
  const assets = new Set(edges.flatMap((edge) => [edge.upstream, edge.downstream]));
  const nodes = [...extraNodes, ...[...assets].filter((asset) => !extraNodes.some((node) => node.asset === asset)).map((asset) => model(asset))];
  return { origin, nodes, edges };
}

function depths(nodes: readonly { asset: string; depth: number }[]): Record<string, number> {
  return Object.fromEntries(nodes.map((node) => [node.asset, node.depth]));
}

describe('lineage store', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('walks the marketplace scenario down from the source and up from an exposure', async () => {
    const { manifest } = parseManifest('marketplace-manifest.json', readLineageFixture('marketplace-manifest.json'));
    await replaceLineage(database.pool(), lineageFromManifest(manifest, { warehouse: 'analytics' }, 'scenario'), NOW);

    const down = await selectDownstream(database.pool(), 'analytics.raw.store_inventory', WIDE);
    expect(down.truncated).toBe(false);
    expect([down.total, down.totalExposures]).toEqual([5, 2]);
    expect(depths(down.nodes)).toEqual({
      'analytics.staging.stg_inventory': 1,
      'analytics.marts.carried_counts': 1,
      'exposure.marketplace.crm_email_sync': 1,
      'analytics.marts.top_items_not_carried': 2,
      'exposure.marketplace.account_managers': 3,
    });
    expect(down.nodes.find((node) => node.kind === 'exposure' && node.depth === 3)).toEqual({
      asset: 'exposure.marketplace.account_managers',
      kind: 'exposure',
      name: "Account managers' dashboard",
      dbtUniqueId: 'exposure.marketplace.account_managers',
      owner: 'account-management',
      exposureType: 'dashboard',
      url: 'https://bi.example.com/dashboards/42',
      depth: 3,
    });

    const up = await selectUpstream(database.pool(), 'exposure.marketplace.account_managers', { maxDepth: 50 });
    expect(up.map((node) => [node.asset, node.kind, node.depth])).toEqual([
      ['analytics.marts.top_items_not_carried', 'model', 1],
      ['analytics.marts.carried_counts', 'model', 2],
      ['analytics.staging.stg_inventory', 'model', 2],
      ['analytics.raw.store_inventory', 'source', 3],
    ]);
    expect(await selectUpstream(database.pool(), 'analytics.raw.store_inventory', { maxDepth: 50 })).toEqual([]);
    expect(await selectLineageNode(database.pool(), 'analytics.raw.store_inventory')).toMatchObject({ kind: 'source', owner: 'inventory-feed' });
    expect(await selectLineageNode(database.pool(), 'analytics.raw.unknown')).toBeNull();
  });

  it('does not loop on a cycle, and gives each asset once at its shortest depth', async () => {
    await replaceLineage(database.pool(), graphOf('cycle', ['c1>c2', 'c2>c3', 'c3>c1', 'c1>c3', 'c3>c4']), NOW);
    const down = await selectDownstream(database.pool(), 'c1', { maxDepth: 1_000, limit: 100 });
    expect(depths(down.nodes)).toEqual({ c2: 1, c3: 1, c4: 2 });
    const up = await selectUpstream(database.pool(), 'c4', { maxDepth: 1_000 });
    expect(depths(up)).toEqual({ c3: 1, c1: 2, c2: 2 });
  });

  it('stops at maxDepth', async () => {
    await replaceLineage(database.pool(), graphOf('chain', ['d1>d2', 'd2>d3', 'd3>d4']), NOW);
    expect(depths((await selectDownstream(database.pool(), 'd1', { maxDepth: 2, limit: 100 })).nodes)).toEqual({ d2: 1, d3: 2 });
    expect(depths(await selectUpstream(database.pool(), 'd4', { maxDepth: 1 }))).toEqual({ d3: 1 });
  });

  it('truncates at limit, says so and counts what it left out, keeping exposures first', async () => {
    const fanOut = Array.from({ length: 30 }, (_, index) => `f0>f${String(index + 1).padStart(2, '0')}`);
    const exposure: LineageNode = { ...model('exposure.p.far'), kind: 'exposure', name: 'Far dashboard', exposureType: 'dashboard', owner: 'bi' };
    await replaceLineage(database.pool(), graphOf('fan', [...fanOut, 'f30>exposure.p.far'], [exposure]), NOW);
    const down = await selectDownstream(database.pool(), 'f0', { maxDepth: 50, limit: 5 });
    expect(down.truncated).toBe(true);
    expect([down.total, down.totalExposures]).toEqual([31, 1]);
    expect(down.nodes.map((node) => node.asset)).toEqual(['exposure.p.far', 'f01', 'f02', 'f03', 'f04']);
    const all = await selectDownstream(database.pool(), 'f0', { maxDepth: 50, limit: 31 });
    expect([all.truncated, all.nodes.length]).toEqual([false, 31]);
  });

  it('replacing an origin drops its stale edges and nodes and leaves other origins alone', async () => {
    await replaceLineage(database.pool(), graphOf('one', ['r1>r2', 'r2>r3']), NOW);
    await replaceLineage(database.pool(), graphOf('two', ['r2>r9']), NOW);
    expect(depths((await selectDownstream(database.pool(), 'r1', WIDE)).nodes)).toEqual({ r2: 1, r3: 2, r9: 2 });

    // r2 no longer feeds r3 in origin one; origin two still says r2 feeds r9.
    await replaceLineage(database.pool(), graphOf('one', ['r1>r2', 'r1>r4']), LATER);
    expect(depths((await selectDownstream(database.pool(), 'r1', WIDE)).nodes)).toEqual({ r2: 1, r4: 1, r9: 2 });
    expect(await selectLineageNode(database.pool(), 'r3')).toBeNull();
    const { rows } = await database
      .pool()
      .query<{ origin: string; n: number }>(`select origin, count(*)::int as n from lineage_edges where origin in ('one', 'two') group by origin order by origin`);
    expect(rows).toEqual([
      { origin: 'one', n: 2 },
      { origin: 'two', n: 1 },
    ]);

    // An empty graph (the manifest lost every model) empties only that origin.
    await replaceLineage(database.pool(), { origin: 'one', nodes: [], edges: [] }, LATER);
    expect(depths((await selectDownstream(database.pool(), 'r2', WIDE)).nodes)).toEqual({ r9: 1 });
    expect(await selectDownstream(database.pool(), 'r1', WIDE)).toEqual({ nodes: [], total: 0, totalExposures: 0, truncated: false });
  });

  it('describes an asset several origins know by the origin that builds it', async () => {
    await replaceLineage(database.pool(), graphOf('consumer', ['shared.t>x1'], [{ ...model('shared.t'), kind: 'source', owner: 'nobody-really' }]), NOW);
    await replaceLineage(database.pool(), graphOf('producer', ['y1>shared.t'], [model('shared.t', { owner: 'builders', name: 't' })]), NOW);
    expect(await selectLineageNode(database.pool(), 'shared.t')).toMatchObject({ kind: 'model', owner: 'builders', name: 't' });
    // The union: upstream of the consumer's model goes through the producer's graph.
    expect(depths(await selectUpstream(database.pool(), 'x1', { maxDepth: 50 }))).toEqual({ 'shared.t': 1, y1: 2 });
  });

  it('two replicas replacing one origin at once end with one whole graph, not a mix', async () => {
    const big = (tag: string): LineageGraph =>
      graphOf(
        'race',
        Array.from({ length: 400 }, (_, index) => `race.${tag}${index}>race.${tag}${index + 1}`),
      );
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([replaceLineage(database.pool(), big('a'), NOW), replaceLineage(database.pool(), big('b'), NOW)]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
      const { rows } = await database
        .pool()
        .query<{ prefix: string; n: number }>(`select left(upstream, 6) as prefix, count(*)::int as n from lineage_edges where origin = 'race' group by 1`);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.n).toBe(400);
      const nodes = await database.pool().query<{ n: number }>(`select count(*)::int as n from lineage_nodes where origin = 'race'`);
      expect(nodes.rows[0]?.n).toBe(401);
    }
  });

  it('stores hostile names as data', async () => {
    const hostile = `w.s"q.o'x"; drop table lineage_edges; -- ;rm -rf /`;
    const owner = `Robert'); DROP TABLE lineage_nodes;--`;
    await replaceLineage(database.pool(), graphOf(`origin'"; rm -rf ~`, [`${hostile}>$1 \\x00`], [model(hostile, { owner })]), NOW);
    expect(depths((await selectDownstream(database.pool(), hostile, WIDE)).nodes)).toEqual({ '$1 \\x00': 1 });
    expect(await selectLineageNode(database.pool(), hostile)).toMatchObject({ asset: hostile, owner });
    expect(depths(await selectUpstream(database.pool(), '$1 \\x00', { maxDepth: 5 }))).toEqual({ [hostile]: 1 });
  });

  it('refuses a graph whose edge names no node, and nonsense walk bounds, saying what to do', async () => {
    await expect(replaceLineage(database.pool(), { origin: 'bad', nodes: [model('a')], edges: [{ upstream: 'a', downstream: 'ghost' }] }, NOW)).rejects.toThrow(
      /edge "a" → "ghost" names "ghost", which is not a node of the graph/,
    );
    await expect(selectDownstream(database.pool(), 'a', { maxDepth: 0, limit: 10 })).rejects.toThrow(/maxDepth must be a whole number of edges, 1 or more; got 0/);
    await expect(selectDownstream(database.pool(), 'a', { maxDepth: 3, limit: -1 })).rejects.toThrow(/limit must be a whole number, 0 or more; got -1/);
  });
});
