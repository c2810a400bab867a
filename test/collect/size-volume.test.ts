// Volume of a table rebuilt on every run: its size, from the row estimates the sweep records,
// scored per bucket. A collapse fails at once; the failed bucket leaves later baselines.
// (test/collect/sweep.test.ts shows the sweep judging it from a real table's estimate.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSizeVolume, sizeFinding } from '../../src/collect/size-volume.ts';
import { configSchema } from '../../src/config/schema.ts';
import { insertFindings, upsertObservations } from '../../src/store/sweep-records.ts';
import type { Finding } from '../../src/types.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { profileContext } from './profile-fixtures.ts';

const MINUTE = 60_000;
const T0 = new Date('2025-05-05T10:00:00Z');
const minute = (n: number): Date => new Date(T0.getTime() + n * MINUTE);
const ASSET = 'snap.analytics.top_items';

let state: TestDatabase;
let warehouseDb: TestDatabase;
const opened: Warehouse[] = [];

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouseDb.pool().query('CREATE SCHEMA analytics; CREATE TABLE analytics.top_items (store_id int, sku_id int, refreshed_at timestamptz)');
});

afterAll(async () => {
  await Promise.allSettled(opened.map((warehouse) => warehouse.close()));
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

/** What two sweeps a minute would have recorded: the catalog's row estimate at each. */
async function recordEstimates(fromMinute: number, toMinute: number, rows: number): Promise<void> {
  for (let n = fromMinute; n < toMinute; n += 1) {
    for (const second of [10, 40]) {
      const at = new Date(minute(n).getTime() + second * 1000);
      await upsertObservations(state.pool(), [{ asset: ASSET, metric: 'row_estimate', column: '', bucket: at, value: rows }], at);
    }
  }
}

async function volumeAt(now: Date): Promise<Finding> {
  const made = profileContext(state, warehouseDb.url, 'snap', { monitors: [{ assets: ASSET, volume: { bucket: '1m' } }], now: () => now });
  opened.push(made.warehouse);
  const volume = made.context.config.monitors[0]?.volume;
  if (volume === undefined) throw new Error('the monitor lost its volume check');
  const [finding] = await evaluateSizeVolume(made.context, [{ asset: ASSET, volume }], now);
  if (finding === undefined) throw new Error('no volume finding');
  await insertFindings(state.pool(), [finding], now);
  expect(made.statements.filter((sql) => /analytics.*top_items/.test(sql))).toEqual([]);
  return finding;
}

describe('volume without a column: the size of a rebuilt table', () => {
  it('learns first, then scores the newest estimate against the past minutes', async () => {
    await recordEstimates(0, 2, 400);
    expect((await volumeAt(minute(2))).message).toBe(`${ASSET}: 400 rows in the table (catalog estimate); still learning its normal size`);
    await recordEstimates(2, 10, 400);
    const steady = await volumeAt(minute(10));
    expect(steady).toMatchObject({ status: 'ok', observed: 400 });
    expect(steady.expected?.low).toBeLessThan(400);
    expect(steady.expected?.high).toBeGreaterThan(400);
  });

  it('fails when the table collapses, and keeps failing: collapsed buckets never become the new normal', async () => {
    await recordEstimates(10, 11, 0);
    const collapsed = await volumeAt(minute(11));
    // Estimates are stored when they change; the one in force at `now` is the newest bucket's.
    expect(collapsed).toMatchObject({ status: 'fail', observed: 0, bucket: minute(11).toISOString() });
    expect(collapsed.message).toMatch(new RegExp(`^${ASSET}: 0 rows in the table \\(catalog estimate\\) at 10:11, expected \\d+–\\d+$`));

    // Fifteen more empty minutes: more zeros than healthy points. Were flagged buckets part of
    // the baseline, its median would now be 0 and the empty table would pass as normal.
    for (let n = 11; n < 26; n += 1) {
      await recordEstimates(n, n + 1, 0);
      expect((await volumeAt(minute(n + 1))).status).toBe('fail');
    }

    await recordEstimates(26, 27, 400);
    expect((await volumeAt(minute(27))).status).toBe('ok');
  });
});

describe('size is a level, not a count', () => {
  it('judges only the newest size: a table that collapsed yesterday and recovered is ok now, not "too few rows in 24 hours"', () => {
    const HOUR = 3_600_000;
    const config = configSchema.parse({ warehouses: { snap: { type: 'postgres', url: 'postgres://x@127.0.0.1/snap' } }, monitors: [{ assets: ASSET, volume: { bucket: '1h' } }] });
    const volume = config.monitors[0]!.volume!;
    const start = Date.parse('2025-05-01T00:00:00Z');
    // Nine days of 400 rows an hour, then 20 empty hours ending three hours ago, then 400 again.
    const series = Array.from({ length: 9 * 24 + 24 }, (_, hour) => ({
      bucket: new Date(start + hour * HOUR),
      value: hour >= 9 * 24 + 1 && hour < 9 * 24 + 21 ? 0 : 400,
    }));
    const finding = sizeFinding(config, { asset: ASSET, volume }, series);
    expect(finding).toMatchObject({ status: 'ok', observed: 400 });
    expect(finding.message).not.toContain('24 hours');
    expect(finding.expected?.high).toBeLessThan(1_000);
  });
});
