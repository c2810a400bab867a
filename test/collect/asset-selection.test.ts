import { describe, expect, it } from 'vitest';
import { assetKey, selectMonitoredAssets } from '../../src/collect/asset-selection.ts';
import { globTargetsWarehouse } from '../../src/config/asset-globs.ts';
import { monitorSchema, type MonitorConfig } from '../../src/config/schema.ts';
import type { CatalogTable } from '../../src/warehouse/warehouse.ts';

function table(schema: string, name: string): CatalogTable {
  return { schema, name, kind: 'table', columns: [], rowEstimate: null, sizeBytes: null, writes: null };
}

function monitor(assets: string | string[], exclude: string[] = []): MonitorConfig {
  return monitorSchema.parse({ assets, exclude, freshness: true });
}

const TABLES = [
  table('public', 'orders'),
  table('public', 'orders_archive'),
  table('public', 'customers'),
  table('raw', 'inventory_2024'),
  table('raw', 'inventory_2025'),
  table('raw', 'events'),
];

const keys = (selection: ReturnType<typeof selectMonitoredAssets>): string[] => selection.assets.map((entry) => entry.asset);

describe('selectMonitoredAssets', () => {
  it('matches globs against the whole warehouse.schema.table key', () => {
    const selection = selectMonitoredAssets('analytics', TABLES, [monitor('analytics.raw.*')]);
    expect(keys(selection)).toEqual(['analytics.raw.inventory_2024', 'analytics.raw.inventory_2025', 'analytics.raw.events']);
    expect(selection.unmatchedMonitors).toEqual([]);
  });

  it('lets * span the dots between schema and table', () => {
    expect(keys(selectMonitoredAssets('analytics', TABLES, [monitor('analytics.*')]))).toHaveLength(TABLES.length);
    expect(keys(selectMonitoredAssets('analytics', TABLES, [monitor('*')]))).toHaveLength(TABLES.length);
  });

  it('matches an exact key and nothing that merely starts with it', () => {
    expect(keys(selectMonitoredAssets('analytics', TABLES, [monitor('analytics.public.orders')]))).toEqual(['analytics.public.orders']);
  });

  it('removes excluded assets, and a monitor whose every match is excluded matches nothing', () => {
    const monitors = [monitor('analytics.public.*', ['analytics.public.*_archive']), monitor('analytics.raw.inventory_*', ['analytics.raw.*'])];
    const selection = selectMonitoredAssets('analytics', TABLES, monitors);
    expect(keys(selection)).toEqual(['analytics.public.orders', 'analytics.public.customers']);
    expect(selection.unmatchedMonitors).toEqual([1]);
  });

  it('accepts several globs per monitor, including brace sets', () => {
    const selection = selectMonitoredAssets('analytics', TABLES, [monitor(['analytics.public.orders', 'analytics.raw.inventory_{2024,2025}'])]);
    expect(keys(selection)).toEqual(['analytics.public.orders', 'analytics.raw.inventory_2024', 'analytics.raw.inventory_2025']);
  });

  it('lists a table once per monitor that selects it, with that monitor and its index', () => {
    const monitors = [monitor('analytics.public.orders'), monitor('analytics.public.*')];
    const selection = selectMonitoredAssets('analytics', TABLES, monitors);
    const orders = selection.assets.filter((entry) => entry.asset === 'analytics.public.orders');
    expect(orders.map((entry) => entry.monitorIndex)).toEqual([0, 1]);
    expect(orders[0]?.monitor).toBe(monitors[0]);
    expect(orders[1]?.monitor).toBe(monitors[1]);
    expect(orders[0]).toMatchObject({ warehouse: 'analytics', table: TABLES[0] });
  });

  describe('--select', () => {
    it('narrows the monitored assets to those matching it', () => {
      const selection = selectMonitoredAssets('analytics', TABLES, [monitor('analytics.*')], 'analytics.raw.inventory_*');
      expect(keys(selection)).toEqual(['analytics.raw.inventory_2024', 'analytics.raw.inventory_2025']);
    });

    it('never adds an asset no monitor selects', () => {
      const selection = selectMonitoredAssets('analytics', TABLES, [monitor('analytics.public.*')], 'analytics.raw.*');
      expect(keys(selection)).toEqual([]);
    });

    it('does not report a monitor as matching nothing because the selection left none of its tables', () => {
      const selection = selectMonitoredAssets('analytics', TABLES, [monitor('analytics.public.*'), monitor('analytics.raw.*')], 'analytics.raw.events');
      expect(keys(selection)).toEqual(['analytics.raw.events']);
      expect(selection.unmatchedMonitors).toEqual([]);
    });
  });

  describe('several warehouses', () => {
    const monitors = [monitor('analytics.public.*'), monitor('lake.raw.*'), monitor('*.raw.events'), monitor(['analytics.nothing.*', 'lake.nothing.*'])];

    it('applies a monitor only to the warehouse its glob names', () => {
      expect(keys(selectMonitoredAssets('analytics', TABLES, monitors))).toEqual([
        'analytics.public.orders',
        'analytics.public.orders_archive',
        'analytics.public.customers',
        'analytics.raw.events',
      ]);
      expect(keys(selectMonitoredAssets('lake', TABLES, monitors))).toEqual([
        'lake.raw.inventory_2024',
        'lake.raw.inventory_2025',
        'lake.raw.events',
        'lake.raw.events',
      ]);
    });

    it('reports a monitor as unmatched only in warehouses its globs target', () => {
      const onlyEvents = [table('raw', 'events')];
      // lake: monitor 0 names analytics only, so it is not lake's to report.
      expect(selectMonitoredAssets('lake', onlyEvents, monitors).unmatchedMonitors).toEqual([3]);
      expect(selectMonitoredAssets('analytics', onlyEvents, monitors).unmatchedMonitors).toEqual([0, 3]);
      // A warehouse no glob names except the wildcard one: only that monitor can be unmatched.
      expect(selectMonitoredAssets('warehouse3', [table('public', 'orders')], monitors).unmatchedMonitors).toEqual([2]);
    });

    it('names a warehouse by the first part of a glob', () => {
      expect(globTargetsWarehouse('analytics.public.*', 'analytics')).toBe(true);
      expect(globTargetsWarehouse('analytics.public.*', 'analytics2')).toBe(false);
      expect(globTargetsWarehouse('analytic*.public.*', 'analytics2')).toBe(true);
      expect(globTargetsWarehouse('*', 'lake')).toBe(true);
      expect(globTargetsWarehouse('{lake,analytics}.raw.*', 'lake')).toBe(true);
    });
  });

  describe('monitors matching nothing', () => {
    it('reports their indexes, and an empty catalog leaves every targeting monitor unmatched', () => {
      const monitors = [monitor('analytics.public.orders'), monitor('analytics.public.ordres'), monitor('analytics.missing.*')];
      expect(selectMonitoredAssets('analytics', TABLES, monitors).unmatchedMonitors).toEqual([1, 2]);
      expect(selectMonitoredAssets('analytics', [], monitors)).toEqual({ assets: [], unmatchedMonitors: [0, 1, 2] });
    });

    it('is not fooled by case: keys match case-sensitively like the identifiers they name', () => {
      const selection = selectMonitoredAssets('analytics', [table('public', 'Orders')], [monitor('analytics.public.orders'), monitor('analytics.public.Orders')]);
      expect(keys(selection)).toEqual(['analytics.public.Orders']);
      expect(selection.unmatchedMonitors).toEqual([0]);
    });
  });

  describe('hostile names', () => {
    const HOSTILE = [
      table('public', 'a/b'),
      table('public', 'x/../y'),
      table('we"ird', "o'brien; drop table x"),
      table('public', 'with space'),
      table('public', 'dotted.name'),
      table('public', '.hidden'),
      table('public', 'back\\slash'),
      table('public', 'Ünïcödé ✓'),
      table('public', '!negated'),
      table('public', '*star*'),
    ];

    it('lets * match names holding /, quotes, spaces, dots, backslashes and glob characters', () => {
      const selection = selectMonitoredAssets('analytics', HOSTILE, [monitor('analytics.*')]);
      expect(keys(selection)).toEqual(HOSTILE.map((entry) => assetKey('analytics', entry)));
      const publicOnly = selectMonitoredAssets('analytics', HOSTILE, [monitor('analytics.public.*')]);
      expect(keys(publicOnly)).toHaveLength(HOSTILE.length - 1);
    });

    it('keeps the key as written, / included', () => {
      expect(assetKey('analytics', table('public', 'a/b'))).toBe('analytics.public.a/b');
      const [entry] = selectMonitoredAssets('analytics', [table('public', 'a/b')], [monitor('analytics.public.*')]).assets;
      expect(entry?.asset).toBe('analytics.public.a/b');
      expect(entry?.table.name).toBe('a/b');
    });

    it('matches a table with / in its name when a monitor names it exactly, or by a glob around the /', () => {
      const monitors = [monitor('analytics.public.a/b'), monitor('analytics.public.a*b'), monitor('analytics.public.x/*')];
      const selection = selectMonitoredAssets('analytics', HOSTILE, monitors);
      expect(selection.assets.map((entry) => [entry.monitorIndex, entry.asset])).toEqual([
        [0, 'analytics.public.a/b'],
        [1, 'analytics.public.a/b'],
        [2, 'analytics.public.x/../y'],
      ]);
      expect(selection.unmatchedMonitors).toEqual([]);
    });

    it('narrows by --select to a name with / in it', () => {
      const selection = selectMonitoredAssets('analytics', HOSTILE, [monitor('analytics.*')], 'analytics.public.a/b');
      expect(keys(selection)).toEqual(['analytics.public.a/b']);
    });

    it('treats a leading ! in a glob literally, never as negation', () => {
      const selection = selectMonitoredAssets('analytics', HOSTILE, [monitor('analytics.public.!negated')]);
      expect(keys(selection)).toEqual(['analytics.public.!negated']);
    });
  });
});
