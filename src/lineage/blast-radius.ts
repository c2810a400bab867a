// The blast radius of a failing asset: what reads it, down the lineage, and who owns each.
// Exposures (dashboards, syncs, apps) are kept apart from models because they are what a person
// being paged needs first: who will notice, and whom to tell.

import type pg from 'pg';
import { selectDownstream, type LineageWalkNode } from '../store/lineage.ts';
import type { LineageNodeKind } from './lineage-graph.ts';

export interface BlastRadiusOptions {
  /** Edges to follow at most (default 50: deeper than real dbt projects, and a bound on cycles). */
  maxDepth?: number;
  /** Downstream nodes to return at most (default 200); exposures are kept before models. */
  limit?: number;
}

export interface BlastRadiusAsset {
  asset: string;
  kind: Exclude<LineageNodeKind, 'exposure'>;
  name: string;
  owner: string | null;
  depth: number;
}

export interface BlastRadiusExposure {
  asset: string;
  name: string;
  type: string | null;
  owner: string | null;
  url: string | null;
  depth: number;
}

export interface BlastRadius {
  asset: string;
  /** Downstream models, seeds and snapshots, by depth then name. */
  assets: BlastRadiusAsset[];
  /** Downstream exposures, by depth then name. */
  exposures: BlastRadiusExposure[];
  /** Counts before `limit`: the lists may hold fewer. */
  totalAssets: number;
  totalExposures: number;
  truncated: boolean;
}

export const BLAST_RADIUS_DEFAULTS = { maxDepth: 50, limit: 200 } as const;

export async function blastRadius(client: pg.ClientBase | pg.Pool, asset: string, options: BlastRadiusOptions = {}): Promise<BlastRadius> {
  const downstream = await selectDownstream(client, asset, {
    maxDepth: options.maxDepth ?? BLAST_RADIUS_DEFAULTS.maxDepth,
    limit: options.limit ?? BLAST_RADIUS_DEFAULTS.limit,
  });
  const nodes = [...downstream.nodes].sort(byDepthThenName);
  const assets: BlastRadiusAsset[] = [];
  const exposures: BlastRadiusExposure[] = [];
  for (const node of nodes) {
    if (node.kind === 'exposure') exposures.push(exposureOf(node));
    else assets.push({ asset: node.asset, kind: node.kind, name: node.name, owner: node.owner, depth: node.depth });
  }
  return {
    asset,
    assets,
    exposures,
    totalAssets: downstream.total - downstream.totalExposures,
    totalExposures: downstream.totalExposures,
    truncated: downstream.truncated,
  };
}

function exposureOf(node: LineageWalkNode): BlastRadiusExposure {
  return { asset: node.asset, name: node.name, type: node.exposureType, owner: node.owner, url: node.url, depth: node.depth };
}

function byDepthThenName(a: LineageWalkNode, b: LineageWalkNode): number {
  return a.depth - b.depth || compareText(a.name, b.name) || compareText(a.asset, b.asset);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ASSETS_NAMED = 3;
const EXPOSURES_NAMED = 5;

/**
 * One line for a page or a Slack message, e.g. `3 downstream models (analytics.orders, …) and
 * 2 exposures: Account managers' dashboard (dashboard, owner: account-management), …`.
 */
export function describeBlastRadius(radius: BlastRadius): string {
  const parts: string[] = [];
  if (radius.totalAssets > 0) {
    const allModels = radius.assets.every((asset) => asset.kind === 'model');
    const noun = plural(radius.totalAssets, allModels ? 'model' : 'asset');
    const named = radius.assets.slice(0, ASSETS_NAMED).map((asset) => asset.asset);
    parts.push(`${radius.totalAssets} downstream ${noun} (${listWithMore(named, radius.totalAssets)})`);
  }
  if (radius.totalExposures > 0) {
    const named = radius.exposures.slice(0, EXPOSURES_NAMED).map(describeExposure);
    parts.push(`${radius.totalExposures} ${plural(radius.totalExposures, 'exposure')}: ${listWithMore(named, radius.totalExposures)}`);
  }
  return parts.length === 0 ? 'Nothing downstream in the dbt lineage.' : parts.join(' and ');
}

function describeExposure(exposure: BlastRadiusExposure): string {
  const about = [exposure.type, `owner: ${exposure.owner ?? 'none'}`].filter((part) => part !== null);
  return `${exposure.name} (${about.join(', ')})`;
}

function listWithMore(named: readonly string[], total: number): string {
  const more = total - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}

export interface BlastRadiusDetails {
  downstream_assets: number;
  downstream_exposures: number;
  exposures: { name: string; type: string | null; owner: string | null; url: string | null; depth: number }[];
  more_exposures: number;
  assets: { asset: string; owner: string | null; depth: number }[];
  more_assets: number;
  /** Everyone who owns something downstream, exposures' owners first. */
  owners: string[];
}

export interface BlastRadiusDetailsOptions {
  /** Entries per list (default 10). */
  maxItems?: number;
}

// PagerDuty refuses events over 512 KB and people read the first screen only: lists are capped
// and say how many more, and each string is cut to a length a screen can show.
const MAX_TEXT = 200;
const MAX_URL = 1000;

/** A compact, bounded, JSON-able blast radius for PagerDuty `custom_details`. */
export function blastRadiusDetails(radius: BlastRadius, options: BlastRadiusDetailsOptions = {}): BlastRadiusDetails {
  const maxItems = options.maxItems ?? 10;
  const exposures = radius.exposures.slice(0, maxItems);
  const assets = radius.assets.slice(0, maxItems);
  const owners = [...new Set([...radius.exposures, ...radius.assets].flatMap((node) => (node.owner === null ? [] : [node.owner])))];
  return {
    downstream_assets: radius.totalAssets,
    downstream_exposures: radius.totalExposures,
    exposures: exposures.map((exposure) => ({
      name: cut(exposure.name),
      type: exposure.type === null ? null : cut(exposure.type),
      owner: exposure.owner === null ? null : cut(exposure.owner),
      // A cut link is a broken link: an absurdly long one is left out instead.
      url: exposure.url !== null && exposure.url.length <= MAX_URL ? exposure.url : null,
      depth: exposure.depth,
    })),
    more_exposures: radius.totalExposures - exposures.length,
    assets: assets.map((asset) => ({ asset: cut(asset.asset), owner: asset.owner === null ? null : cut(asset.owner), depth: asset.depth })),
    more_assets: radius.totalAssets - assets.length,
    owners: owners.slice(0, maxItems).map(cut),
  };
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
