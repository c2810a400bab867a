import { describe, expect, it } from 'vitest';
import { dbtFreshnessFindings } from '../../../src/collect/dbt/dbt-freshness-findings.ts';
import { parseManifest } from '../../../src/collect/dbt/dbt-manifest.ts';
import { parseSourceFreshness } from '../../../src/collect/dbt/dbt-source-freshness.ts';
import { readFixture } from './dbt-fixtures.ts';

const NOW = new Date('2025-06-02T10:00:00Z');
const manifest = parseManifest('manifest.json', readFixture('hand__manifest__v12__dbt-1.12-extra-fields.json')).manifest;
const sources = (name: string) => parseSourceFreshness(name, readFixture(name)).sources;

describe('source freshness findings from sources.json', () => {
  it('the ticketswap run is all pass: ok, with the warn criterion as expected high', () => {
    const findings = dbtFreshnessFindings({ sources: sources('sources__v3__dbt-1.9.1__ticketswap__pass.json'), mapping: {}, now: new Date('2025-01-01T12:22:36Z') });
    expect(findings).toEqual([
      {
        check: 'freshness:sample_source:dbt',
        kind: 'freshness',
        asset: 'sample_source',
        status: 'ok',
        observed: 1208.912481,
        expected: { low: 0, high: 86_400 },
        message: 'sample_source: dbt source freshness: fresh, newest row was 20m 8s old (warn after 1d) (checked 2025-01-01T11:22:36Z, 1h ago)',
      },
    ]);
  });

  it('error fails, warn warns, runtime error could not measure, on the table asset', () => {
    const findings = dbtFreshnessFindings({ sources: sources('hand__sources__v3__warn-and-error.json'), manifest, mapping: { warehouse: 'wh' }, now: NOW });
    expect(findings).toEqual([
      {
        check: 'freshness:wh.raw.inventory_feed:dbt',
        kind: 'freshness',
        asset: 'wh.raw.inventory_feed',
        status: 'fail',
        observed: 266_400,
        expected: { low: 0, high: 7_200 },
        message:
          'wh.raw.inventory_feed: dbt source freshness of source.shop.raw.inventory_feed: stale (error), newest row (loaded_at) was 3d 2h old ' +
          '(warn after 2h, fail after 1d) (checked 2025-06-02T08:00:00Z, 2h ago)',
      },
      {
        check: 'freshness:wh.raw.stores:dbt',
        kind: 'freshness',
        asset: 'wh.raw.stores',
        status: 'warn',
        observed: 46_800,
        expected: { low: 0, high: 43_200 },
        message: 'wh.raw.stores: dbt source freshness of source.shop.raw.stores: late (warn), newest row (updated_at) was 13h old (warn after 12h) (checked 2025-06-02T08:00:00Z, 2h ago)',
      },
      expect.objectContaining({ asset: 'source.shop.raw.orders', status: 'ok', observed: 600, expected: { low: 0, high: 3_600 } }),
      {
        check: 'freshness:source.shop.raw.missing:dbt',
        kind: 'freshness',
        asset: 'source.shop.raw.missing',
        status: 'error',
        observed: null,
        message:
          'source.shop.raw.missing: dbt source freshness could not be measured: Database Error in source missing (models/sources.yml) relation "raw.missing" does not exist (checked 2025-06-02T08:00:05Z, 1h 59m ago)',
      },
    ]);
  });

  it('reads Fusion’s capitalised statuses the same way', () => {
    const core = dbtFreshnessFindings({ sources: sources('hand__sources__v3__warn-and-error.json'), manifest, mapping: { warehouse: 'wh' }, now: NOW });
    const fusion = dbtFreshnessFindings({ sources: sources('hand__sources__v3__fusion-capitalised.json'), manifest, mapping: { warehouse: 'wh' }, now: NOW });
    expect(fusion).toEqual(core.slice(0, 3));
  });
});
