// The asset a dbt node is. A node that is a warehouse relation takes the table's key
// (`warehouse.schema.table`, as the catalog sweep names tables) when the dbt target is mapped to
// a warehouse, so a stale table and the dbt model that builds it are one asset; otherwise, and
// for nodes that are not relations, the key is the node's unique_id (`model.jaffle_shop.orders`).

import type { DbtNode } from './dbt-manifest.ts';

export interface DbtAssetMapping {
  /** The pipewarden warehouse this dbt target builds into. */
  warehouse?: string;
}

const RELATION_TYPES = new Set(['model', 'seed', 'snapshot', 'source']);

export type AssetKeyNode = Pick<DbtNode, 'uniqueId' | 'resourceType' | 'schema' | 'alias' | 'identifier' | 'name'> &
  Partial<Pick<DbtNode, 'materialized'>>;

export function assetKeyFor(node: AssetKeyNode, mapping: DbtAssetMapping): string {
  const isRelation = RELATION_TYPES.has(node.resourceType) && node.materialized !== 'ephemeral';
  if (!mapping.warehouse || !isRelation || !node.schema) return node.uniqueId;
  const table = node.resourceType === 'source' ? (node.identifier ?? node.name) : (node.alias ?? node.name);
  // dbt writes names as configured; PostgreSQL folds unquoted names to lower case, and the catalog
  // sweep keys tables by the folded names it reads back.
  return `${mapping.warehouse}.${node.schema.toLowerCase()}.${table.toLowerCase()}`;
}
