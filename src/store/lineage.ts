// The lineage tables: each origin's (dbt target's) graph, replaced whole when its manifest is
// re-read, and walked across every origin for blast radius (down) and root cause (up).

import type pg from 'pg';
import { PipewardenError } from '../errors.ts';
import type { LineageGraph, LineageNode, LineageNodeKind } from '../lineage/lineage-graph.ts';
import { withTransaction } from './transaction.ts';

type Queryable = pg.ClientBase | pg.Pool;

export interface LineageNodeRow {
  asset: string;
  kind: LineageNodeKind;
  name: string;
  dbt_unique_id: string;
  owner: string | null;
  exposure_type: string | null;
  url: string | null;
}

export interface LineageWalkRow extends LineageNodeRow {
  depth: number;
  total: number;
  total_exposures: number;
}

export interface LineageWalkNode extends LineageNode {
  /** Edges from the starting asset on the shortest path: 1 for a direct reader. */
  depth: number;
}

export interface DownstreamResult {
  nodes: LineageWalkNode[];
  /** How many downstream nodes there are within maxDepth, before `limit`. */
  total: number;
  /** How many of those are exposures. */
  totalExposures: number;
  truncated: boolean;
}

export interface WalkOptions {
  /** How many edges to follow at most; it also bounds the walk when the graph has a cycle. */
  maxDepth: number;
}

export interface DownstreamOptions extends WalkOptions {
  limit: number;
}

/** Replaces one origin's graph: readers see the old graph or the new one, never a mix. */
export async function replaceLineage(pool: pg.Pool, graph: LineageGraph, now: Date): Promise<void> {
  assertEdgesJoinNodes(graph);
  await withTransaction(pool, async (client) => {
    // Two replicas re-reading the same manifest take turns instead of deadlocking on each other's
    // rows; the one that goes second leaves its own (equal or newer) graph.
    await lockOrigin(client, graph.origin);
    await deleteOriginEdges(client, graph.origin);
    await deleteOriginNodes(client, graph.origin);
    await insertNodes(client, graph, now);
    await insertEdges(client, graph);
  });
}

function assertEdgesJoinNodes(graph: LineageGraph): void {
  const assets = new Set(graph.nodes.map((node) => node.asset));
  for (const edge of graph.edges) {
    for (const end of [edge.upstream, edge.downstream]) {
      if (!assets.has(end)) {
        throw new PipewardenError(
          'lineage_invalid',
          `Lineage of ${JSON.stringify(graph.origin)}: edge ${JSON.stringify(edge.upstream)} → ${JSON.stringify(edge.downstream)} names ${JSON.stringify(end)}, which is not a node of the graph; build the graph with lineageFromManifest.`,
        );
      }
    }
  }
}

async function lockOrigin(client: pg.ClientBase, origin: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('pipewarden:lineage:' || $1, 0))`, [origin]);
}

async function deleteOriginEdges(client: pg.ClientBase, origin: string): Promise<void> {
  await client.query('DELETE FROM lineage_edges WHERE origin = $1', [origin]);
}

async function deleteOriginNodes(client: pg.ClientBase, origin: string): Promise<void> {
  await client.query('DELETE FROM lineage_nodes WHERE origin = $1', [origin]);
}

// One statement for the whole graph: a project's thousands of nodes travel as parallel arrays.
const INSERT_NODES = `
INSERT INTO lineage_nodes (origin, asset, kind, name, dbt_unique_id, owner, exposure_type, url, updated_at)
SELECT $1, node.asset, node.kind, node.name, node.dbt_unique_id, node.owner, node.exposure_type, node.url, $9
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS node (asset, kind, name, dbt_unique_id, owner, exposure_type, url)`;

async function insertNodes(client: pg.ClientBase, graph: LineageGraph, now: Date): Promise<void> {
  if (graph.nodes.length === 0) return;
  const column = <K extends keyof LineageNode>(key: K): LineageNode[K][] => graph.nodes.map((node) => node[key]);
  await client.query(INSERT_NODES, [
    graph.origin,
    column('asset'),
    column('kind'),
    column('name'),
    column('dbtUniqueId'),
    column('owner'),
    column('exposureType'),
    column('url'),
    now,
  ]);
}

const INSERT_EDGES = `
INSERT INTO lineage_edges (origin, upstream, downstream)
SELECT DISTINCT $1, edge.upstream, edge.downstream FROM unnest($2::text[], $3::text[]) AS edge (upstream, downstream)`;

async function insertEdges(client: pg.ClientBase, graph: LineageGraph): Promise<void> {
  if (graph.edges.length === 0) return;
  await client.query(INSERT_EDGES, [graph.origin, graph.edges.map((edge) => edge.upstream), graph.edges.map((edge) => edge.downstream)]);
}

// Where several origins describe one asset, the one that builds it (not a source) and names an
// owner describes it; origin breaks the tie so every replica shows the same.
const NODE_INFO = `
SELECT n.asset, n.kind, n.name, n.dbt_unique_id, n.owner, n.exposure_type, n.url
FROM lineage_nodes n
WHERE n.asset = walked.asset
ORDER BY n.kind = 'source', n.owner IS NULL, n.origin
LIMIT 1`;

// Breadth-first over the union of every origin's edges. UNION (not UNION ALL) on (asset, depth)
// plus the depth bound is what makes a cycle finish: at most one row per asset per level, instead
// of one per path. Only the shortest depth of each asset is kept.
function walkStatement(direction: 'down' | 'up', limited: boolean): string {
  const [from, to] = direction === 'down' ? ['upstream', 'downstream'] : ['downstream', 'upstream'];
  return `
WITH RECURSIVE walk (asset, depth) AS (
  SELECT e.${to}, 1 FROM lineage_edges e WHERE e.${from} = $1
  UNION
  SELECT e.${to}, w.depth + 1 FROM walk w JOIN lineage_edges e ON e.${from} = w.asset WHERE w.depth < $2
),
walked AS (
  SELECT asset, min(depth) AS depth FROM walk WHERE asset <> $1 GROUP BY asset
),
described AS (
  SELECT walked.depth, node.* FROM walked CROSS JOIN LATERAL (${NODE_INFO}) node
)
SELECT d.*, count(*) OVER ()::int AS total, (count(*) FILTER (WHERE d.kind = 'exposure') OVER ())::int AS total_exposures
FROM described d
${
  limited
    ? // Exposures are what people are told about: a big fan-out of models never crowds them out.
      `ORDER BY d.kind <> 'exposure', d.depth, d.asset LIMIT $3`
    : 'ORDER BY d.depth, d.asset'
}`;
}

const SELECT_DOWNSTREAM = walkStatement('down', true);
const SELECT_UPSTREAM = walkStatement('up', false);

/** The blast radius of an asset: every node downstream within maxDepth, each once at its shortest depth. */
export async function selectDownstream(client: Queryable, asset: string, options: DownstreamOptions): Promise<DownstreamResult> {
  const result = await client.query<LineageWalkRow>(SELECT_DOWNSTREAM, [asset, walkDepth(options.maxDepth), walkLimit(options.limit)]);
  const first = result.rows[0];
  const total = first?.total ?? 0;
  return {
    nodes: result.rows.map(walkNodeFromRow),
    total,
    totalExposures: first?.total_exposures ?? 0,
    truncated: total > result.rows.length,
  };
}

/** Every node upstream of an asset within maxDepth, nearest first: where its failure may come from. */
export async function selectUpstream(client: Queryable, asset: string, options: WalkOptions): Promise<LineageWalkNode[]> {
  const result = await client.query<LineageWalkRow>(SELECT_UPSTREAM, [asset, walkDepth(options.maxDepth)]);
  return result.rows.map(walkNodeFromRow);
}

const SELECT_NODE = `SELECT node.* FROM (SELECT $1::text AS asset) walked CROSS JOIN LATERAL (${NODE_INFO}) node`;

/** What the lineage knows about one asset, or null when no manifest mentions it. */
export async function selectLineageNode(client: Queryable, asset: string): Promise<LineageNode | null> {
  const result = await client.query<LineageNodeRow>(SELECT_NODE, [asset]);
  const row = result.rows[0];
  return row === undefined ? null : nodeFromRow(row);
}

function walkDepth(maxDepth: number): number {
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new PipewardenError('lineage_invalid', `Lineage walk maxDepth must be a whole number of edges, 1 or more; got ${String(maxDepth)}.`);
  }
  return maxDepth;
}

function walkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new PipewardenError('lineage_invalid', `Lineage walk limit must be a whole number, 0 or more; got ${String(limit)}.`);
  }
  return limit;
}

function nodeFromRow(row: LineageNodeRow): LineageNode {
  return {
    asset: row.asset,
    kind: row.kind,
    name: row.name,
    dbtUniqueId: row.dbt_unique_id,
    owner: row.owner,
    exposureType: row.exposure_type,
    url: row.url,
  };
}

function walkNodeFromRow(row: LineageWalkRow): LineageWalkNode {
  return { ...nodeFromRow(row), depth: row.depth };
}
