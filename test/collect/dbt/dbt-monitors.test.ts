// The monitors dbt's own configuration derives, from a hand-made manifest: source freshness as
// freshness checks with dbt's thresholds and owner, meta.pipewarden tuning merged in and validated
// with the config's monitor schema (a bad one named by file, node and field, the rest still
// applied), `false` / `enabled: false` leaving a node alone, and nothing without a warehouse.

import { describe, expect, it } from 'vitest';
import { assetMatcher } from '../../../src/config/asset-globs.ts';
import { parseManifest, type DbtManifest } from '../../../src/collect/dbt/dbt-manifest.ts';
import { deriveDbtMonitors, escapeGlob } from '../../../src/collect/dbt/dbt-monitors.ts';
import { fixturePath, readFixture } from './dbt-fixtures.ts';

const FILE = 'hand__manifest__v12__derived-monitors.json';
const manifest = parseManifest(fixturePath(FILE), readFixture(FILE)).manifest;
const derive = (mapping: { warehouse?: string } = { warehouse: 'wh' }, from: DbtManifest = manifest) =>
  deriveDbtMonitors({ manifest: from, manifestFile: 'target/manifest.json', mapping });

describe('monitors derived from a dbt manifest', () => {
  it('turns a source with loaded_at_field and freshness into a freshness check with its owner', () => {
    const feed = derive().monitors.find((monitor) => monitor.assets[0] === 'wh.raw.inventory_feed');
    expect(feed).toEqual({
      assets: ['wh.raw.inventory_feed'],
      exclude: [],
      owner: 'inventory-team',
      freshness: { column: 'loaded_at', warn_after: 2 * 3_600_000, error_after: 6 * 3_600_000, sensitivity: 'medium' },
      schema: false,
    });
  });

  it('keeps only the rule dbt set, and says once that a freshness filter is not applied', () => {
    const { monitors, notes } = derive();
    expect(monitors.find((monitor) => monitor.assets[0] === 'wh.raw.stores')?.freshness).toEqual({ column: 'updated_at', warn_after: 12 * 3_600_000, sensitivity: 'medium' });
    expect(notes).toEqual([expect.stringMatching(/^target\/manifest\.json: the freshness `filter` of source\.shop\.raw\.stores is not applied/)]);
  });

  it('merges meta.pipewarden over what dbt derives: a tuned threshold, a volume check on a model, page_on', () => {
    const { monitors } = derive();
    expect(monitors.find((monitor) => monitor.assets[0] === 'wh.raw.events')).toMatchObject({
      freshness: { column: 'received_at', warn_after: 30 * 60_000, error_after: 2 * 3_600_000 },
      schema: true,
    });
    expect(monitors.find((monitor) => monitor.assets[0] === 'wh.shop.orders')).toMatchObject({
      owner: 'orders-team',
      volume: { column: 'loaded_at', bucket: 3_600_000, direction: 'both' },
      page_on: ['warning', 'critical'],
    });
  });

  it('names the file, node and field of a bad meta.pipewarden, skips that tuning only', () => {
    const { monitors, problems } = derive();
    expect(problems).toEqual([
      'target/manifest.json: model.shop.daily_sales: meta.pipewarden.volume.bucket: expected a duration like "1h", got "hourly"; this node\'s meta.pipewarden is not applied',
      expect.stringMatching(/^target\/manifest\.json: model\.shop\.top_items: meta\.pipewarden\.run: unknown key "run"/),
    ]);
    // Neither bad node has anything else to check; the good ones are all there.
    expect(monitors.map((monitor) => monitor.assets[0])).toEqual(['wh.shop.orders', 'wh.raw.inventory_feed', 'wh.raw.stores', 'wh.raw.events']);
  });

  it('leaves alone nodes switched off, disabled, ephemeral or without freshness', () => {
    const assets = derive().monitors.map((monitor) => monitor.assets[0]);
    for (const left of ['wh.shop.scratch', 'wh.raw.legacy', 'wh.raw.disabled', 'wh.raw.no_freshness', 'model.shop.stg_orders']) expect(assets).not.toContain(left);
  });

  it('derives no table monitor without a warehouse, and says why', () => {
    const { monitors, notes } = derive({});
    expect(monitors).toEqual([]);
    expect(notes).toEqual([expect.stringContaining('set `warehouse` on this dbt target')]);
  });

  it('matches a table with glob characters in its name as itself only', () => {
    const orders = manifest.nodes.get('model.shop.orders');
    if (orders === undefined) throw new Error('fixture lacks model.shop.orders');
    const odd = { ...orders, uniqueId: 'model.shop.odd', alias: 'x*"; rm -rf /[1]' };
    const { monitors } = derive({ warehouse: 'wh' }, { ...manifest, nodes: new Map([[odd.uniqueId, odd]]) });
    const matches = assetMatcher(monitors[0]?.assets ?? []);
    expect(matches('wh.shop.x*"; rm -rf /[1]')).toBe(true);
    expect(matches('wh.shop.xy"; rm -rf /1')).toBe(false);
    expect(escapeGlob('a.b.c')).toBe('a.b.c');
  });
});
