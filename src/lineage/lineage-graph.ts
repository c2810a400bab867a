// A dbt manifest → the lineage graph pipewarden walks for blast radius and root-cause grouping.
// Nodes are the things that can break or be broken: relations (sources, models, seeds,
// snapshots, keyed as assets so a table's findings and its dbt node meet) and exposures
// (dashboards, reverse-ETL syncs, applications), which are the leaves people care about.
// Pure: no I/O, no clock; the same manifest always gives the same graph, in the same order.

import { assetKeyFor, type DbtAssetMapping } from '../collect/dbt/asset-key-for.ts';
import type { DbtExposure, DbtManifest, DbtNode } from '../collect/dbt/dbt-manifest.ts';

export type LineageNodeKind = 'source' | 'model' | 'seed' | 'snapshot' | 'exposure';

export interface LineageNode {
  /** The asset key: `warehouse.schema.table` for a mapped relation, else the dbt unique_id. */
  asset: string;
  kind: LineageNodeKind;
  /** The dbt name; an exposure's label when it has one. */
  name: string;
  dbtUniqueId: string;
  owner: string | null;
  /** Exposures only: dashboard, notebook, analysis, ml or application. */
  exposureType: string | null;
  /** Exposures only: where people see it. */
  url: string | null;
}

export interface LineageEdge {
  upstream: string;
  downstream: string;
}

export interface LineageGraph {
  /** Which dbt target described this graph; several may describe overlapping assets. */
  origin: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

const RELATION_KINDS: ReadonlySet<string> = new Set(['source', 'model', 'seed', 'snapshot']);

// When two dbt nodes are one table (jaffle_shop declares its seeds as sources too), the node
// that builds the table describes it best; a source only says the table exists.
const KIND_RANK: Record<string, number> = { model: 0, snapshot: 1, seed: 2, source: 3 };

export function lineageFromManifest(manifest: DbtManifest, mapping: DbtAssetMapping, origin: string): LineageGraph {
  const relations: DbtNode[] = [];
  // An ephemeral model is inlined into its readers' SQL: not a table, so not a node, but the
  // path through it is real lineage and must survive as direct edges.
  const ephemeral = new Map<string, readonly string[]>();
  for (const node of sortedById(manifest.nodes.values())) {
    if (!node.enabled || !RELATION_KINDS.has(node.resourceType)) continue;
    if (node.resourceType === 'model' && node.materialized === 'ephemeral') ephemeral.set(node.uniqueId, node.dependsOn);
    else relations.push(node);
  }

  const assetById = new Map<string, string>();
  const nodes = new Map<string, LineageNode>();
  for (const node of relations) {
    const asset = assetKeyFor(node, mapping);
    assetById.set(node.uniqueId, asset);
    nodes.set(asset, preferredNode(nodes.get(asset), relationNode(node, asset)));
  }
  const exposures = sortedById(manifest.exposures.values());
  for (const exposure of exposures) {
    // A relation keyed like an exposure id cannot happen with dbt's own names; if a mapping makes
    // one, the relation keeps the key rather than two different things sharing it.
    if (!nodes.has(exposure.uniqueId)) nodes.set(exposure.uniqueId, exposureNode(exposure));
  }

  const upstreamOf = (id: string): string[] => resolveUpstream(id, assetById, ephemeral, new Set());
  const edges = new Map<string, LineageEdge>();
  const addEdges = (downstream: string, dependsOn: readonly string[]): void => {
    for (const dependency of dependsOn) {
      for (const upstream of upstreamOf(dependency)) {
        // A self-edge appears when two dbt nodes share one table (a seed and its source).
        if (upstream !== downstream) edges.set(JSON.stringify([upstream, downstream]), { upstream, downstream });
      }
    }
  };
  for (const node of relations) addEdges(assetById.get(node.uniqueId) as string, node.dependsOn);
  for (const exposure of exposures) {
    if (nodes.get(exposure.uniqueId)?.kind === 'exposure') addEdges(exposure.uniqueId, exposure.dependsOn);
  }

  return {
    origin,
    nodes: [...nodes.values()].sort((a, b) => compareText(a.asset, b.asset)),
    edges: [...edges.values()].sort((a, b) => compareText(a.upstream, b.upstream) || compareText(a.downstream, b.downstream)),
  };
}

/**
 * The assets a dependency stands for: itself when it is a node, the assets an ephemeral model
 * reads when it is one, and nothing for tests, macros, metrics, disabled or unknown nodes.
 */
function resolveUpstream(
  id: string,
  assetById: ReadonlyMap<string, string>,
  ephemeral: ReadonlyMap<string, readonly string[]>,
  visiting: Set<string>,
): string[] {
  const asset = assetById.get(id);
  if (asset !== undefined) return [asset];
  const through = ephemeral.get(id);
  // dbt refuses cyclic refs, but a hand-edited manifest must not hang the daemon.
  if (through === undefined || visiting.has(id)) return [];
  visiting.add(id);
  const assets = through.flatMap((dependency) => resolveUpstream(dependency, assetById, ephemeral, visiting));
  visiting.delete(id);
  return assets;
}

function relationNode(node: DbtNode, asset: string): LineageNode {
  return {
    asset,
    kind: node.resourceType as LineageNodeKind,
    name: node.name,
    dbtUniqueId: node.uniqueId,
    owner: node.owner,
    exposureType: null,
    url: null,
  };
}

function exposureNode(exposure: DbtExposure): LineageNode {
  return {
    asset: exposure.uniqueId,
    kind: 'exposure',
    name: exposure.label ?? exposure.name,
    dbtUniqueId: exposure.uniqueId,
    owner: exposure.owner.name ?? exposure.owner.email,
    exposureType: exposure.type,
    url: exposure.url,
  };
}

function preferredNode(current: LineageNode | undefined, candidate: LineageNode): LineageNode {
  if (current === undefined) return candidate;
  const [kept, other] = (KIND_RANK[candidate.kind] ?? 9) < (KIND_RANK[current.kind] ?? 9) ? [candidate, current] : [current, candidate];
  return { ...kept, owner: kept.owner ?? other.owner };
}

function sortedById<T extends { uniqueId: string }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => compareText(a.uniqueId, b.uniqueId));
}

// Code-point order, not locale order, so the graph is the same on every machine.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
