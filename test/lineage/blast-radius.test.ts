// The blast radius a page carries: from the marketplace manifest through the state database to
// the one line a person reads and the bounded details PagerDuty gets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/collect/dbt/dbt-manifest.ts';
import { blastRadius, blastRadiusDetails, describeBlastRadius, type BlastRadius } from '../../src/lineage/blast-radius.ts';
import { lineageFromManifest, type LineageNode } from '../../src/lineage/lineage-graph.ts';
import { replaceLineage } from '../../src/store/lineage.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { readLineageFixture } from './lineage-fixtures.ts';

const NOW = new Date('2026-01-05T06:00:00Z');

describe('blast radius', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { manifest } = parseManifest('marketplace-manifest.json', readLineageFixture('marketplace-manifest.json'));
    await replaceLineage(database.pool(), lineageFromManifest(manifest, { warehouse: 'analytics' }, 'marketplace'), NOW);
  });

  afterAll(async () => {
    await database.drop();
  });

  it('of the stale source is exactly its three models and two exposures, with owners and depths', async () => {
    const radius = await blastRadius(database.pool(), 'analytics.raw.store_inventory');
    expect(radius).toEqual({
      asset: 'analytics.raw.store_inventory',
      assets: [
        { asset: 'analytics.marts.carried_counts', kind: 'model', name: 'carried_counts', owner: 'merchandising', depth: 1 },
        { asset: 'analytics.staging.stg_inventory', kind: 'model', name: 'stg_inventory', owner: 'inventory-team', depth: 1 },
        { asset: 'analytics.marts.top_items_not_carried', kind: 'model', name: 'top_items_not_carried', owner: 'merchandising', depth: 2 },
      ],
      exposures: [
        { asset: 'exposure.marketplace.crm_email_sync', name: 'CRM email sync', type: 'application', owner: 'crm@example.com', url: null, depth: 1 },
        {
          asset: 'exposure.marketplace.account_managers',
          name: "Account managers' dashboard",
          type: 'dashboard',
          owner: 'account-management',
          url: 'https://bi.example.com/dashboards/42',
          depth: 3,
        },
      ],
      totalAssets: 3,
      totalExposures: 2,
      truncated: false,
    } satisfies BlastRadius);
    expect(describeBlastRadius(radius)).toBe(
      '3 downstream models (analytics.marts.carried_counts, analytics.staging.stg_inventory, analytics.marts.top_items_not_carried) and ' +
        "2 exposures: CRM email sync (application, owner: crm@example.com), Account managers' dashboard (dashboard, owner: account-management)",
    );
  });

  it('of a leaf is nothing, and says so', async () => {
    const radius = await blastRadius(database.pool(), 'exposure.marketplace.account_managers');
    expect(radius).toMatchObject({ assets: [], exposures: [], totalAssets: 0, totalExposures: 0, truncated: false });
    expect(describeBlastRadius(radius)).toBe('Nothing downstream in the dbt lineage.');
    expect(await blastRadius(database.pool(), 'analytics.no.such_table')).toMatchObject({ assets: [], exposures: [], truncated: false });
  });

  it('honours maxDepth and limit, and still counts what it cut', async () => {
    const near = await blastRadius(database.pool(), 'analytics.raw.store_inventory', { maxDepth: 1 });
    expect(near.assets.map((asset) => asset.name)).toEqual(['carried_counts', 'stg_inventory']);
    expect(near.exposures.map((exposure) => exposure.name)).toEqual(['CRM email sync']);

    const cut = await blastRadius(database.pool(), 'analytics.raw.store_inventory', { limit: 3 });
    expect(cut.truncated).toBe(true);
    // Both exposures are kept; one model of three fits.
    expect(cut.exposures).toHaveLength(2);
    expect(cut.assets.map((asset) => asset.name)).toEqual(['carried_counts']);
    expect(describeBlastRadius(cut)).toBe(
      "3 downstream models (analytics.marts.carried_counts and 2 more) and 2 exposures: CRM email sync (application, owner: crm@example.com), Account managers' dashboard (dashboard, owner: account-management)",
    );
  });

  it('gives PagerDuty a bounded summary that says how many more there are', async () => {
    const radius = await blastRadius(database.pool(), 'analytics.raw.store_inventory');
    expect(blastRadiusDetails(radius, { maxItems: 1 })).toEqual({
      downstream_assets: 3,
      downstream_exposures: 2,
      exposures: [{ name: 'CRM email sync', type: 'application', owner: 'crm@example.com', url: null, depth: 1 }],
      more_exposures: 1,
      assets: [{ asset: 'analytics.marts.carried_counts', owner: 'merchandising', depth: 1 }],
      more_assets: 2,
      owners: ['crm@example.com'],
    });
    expect(blastRadiusDetails(radius).owners).toEqual(['crm@example.com', 'account-management', 'merchandising', 'inventory-team']);
  });

  it('keeps a huge fan-out with hostile names small and literal', async () => {
    const hostile = `x"; rm -rf / #${'y'.repeat(500)}`;
    const node = (asset: string, extra: Partial<LineageNode> = {}): LineageNode => ({
      asset,
      kind: 'model',
      name: asset,
      dbtUniqueId: asset,
      owner: `o'wner;rm -rf ~`,
      exposureType: null,
      url: null,
      ...extra,
    });
    const children = Array.from({ length: 1_000 }, (_, index) => node(`${hostile}.${index}`));
    const app = node('exposure.p.app', { kind: 'exposure', name: hostile, exposureType: 'application', url: `https://x/${'z'.repeat(2_000)}` });
    await replaceLineage(
      database.pool(),
      {
        origin: 'fan',
        nodes: [node('root'), app, ...children],
        edges: [...children.map((child) => ({ upstream: 'root', downstream: child.asset })), { upstream: children[0]!.asset, downstream: app.asset }],
      },
      NOW,
    );
    const radius = await blastRadius(database.pool(), 'root', { limit: 50 });
    expect([radius.truncated, radius.totalAssets, radius.totalExposures, radius.assets.length, radius.exposures.length]).toEqual([true, 1_000, 1, 49, 1]);
    expect(radius.exposures[0]?.name).toBe(hostile);
    const details = blastRadiusDetails(radius);
    expect([details.assets.length, details.more_assets, details.exposures[0]?.url]).toEqual([10, 990, null]);
    expect(details.exposures[0]?.name).toHaveLength(200);
    expect(JSON.stringify(details).length).toBeLessThan(5_000);
    expect(describeBlastRadius(radius)).toMatch(/^1000 downstream models \(x"; rm -rf \/ #y+\.0, .* and 997 more\) and 1 exposure: x"; rm -rf/);
  });
});
