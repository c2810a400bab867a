// From profiles to findings: an injected drop fails the volume check with a message a person
// reads; flagged and expected buckets leave later baselines; retention deletes old history.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markFindingExpected } from '../../src/collect/mark-expected.ts';
import type { ProfilePlan } from '../../src/collect/profile-plans.ts';
import { readPlanSeries } from '../../src/collect/profile-series.ts';
import { configSchema } from '../../src/config/schema.ts';
import { applyRetention } from '../../src/store/retention.ts';
import { insertFindings, upsertObservations } from '../../src/store/sweep-records.ts';
import type { Finding } from '../../src/types.ts';
import type { CatalogTable, Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { createOrdersTable, DAY, day, iso, profile, profileContext, rowsOnDay, seedDays, T0, TODAY } from './profile-fixtures.ts';

let state: TestDatabase;
let warehouseDb: TestDatabase;
let warehouse: Warehouse | undefined;
const ASSET = 'drop.shop.orders';
const VOLUME = { column: 'created_at', bucket: '1d' } as const;

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouseDb.pool().query('CREATE SCHEMA shop');
  await createOrdersTable(warehouseDb, 'orders');
  // 28 steady days and all of today (rows after 06:00 are "future" until the clock gets there).
  await seedDays(warehouseDb, 'orders', -28, Array.from({ length: 29 }, (_, i) => rowsOnDay(i - 28)));
  // The incident: yesterday lost 90 % of its rows.
  await warehouseDb.pool().query('DELETE FROM shop.orders WHERE created_at >= $1 AND created_at < $2 AND id % 10 <> 0', [day(-1), TODAY]);
});

afterAll(async () => {
  await warehouse?.close();
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

function harness(now: () => Date) {
  const made = profileContext(state, warehouseDb.url, 'drop', { monitors: [{ assets: ASSET, volume: VOLUME }], profiling: { history: '28d' }, now });
  warehouse = made.warehouse;
  return made;
}

function volumeOf(findings: readonly Finding[]): Finding {
  const found = findings.find((finding) => finding.check === `volume:${ASSET}`);
  if (!found) throw new Error(`no volume finding; got ${findings.map((finding) => finding.check).join(', ')}`);
  return found;
}

/** The series the next evaluation would see, read the way the profile job reads it. */
async function seriesAt(to: Date) {
  const plan: ProfilePlan = {
    asset: ASSET,
    table: { schema: 'shop', name: 'orders' } as CatalogTable,
    timeColumn: 'created_at',
    bucketMs: DAY,
    volume: configSchema.parse({ warehouses: { drop: { type: 'postgres', url: 'postgres://x' } }, monitors: [{ assets: ASSET, volume: VOLUME }] }).monitors[0]!.volume!,
    distribution: [],
  };
  const series = await readPlanSeries(state.pool(), plan, { firstBucket: day(-28), to, historyMs: 28 * DAY });
  return new Map((series.rows ?? []).map((point) => [point.bucket.toISOString(), point]));
}

async function findingIdFor(bucket: string): Promise<number> {
  const { rows } = await state.pool().query<{ id: string }>('SELECT id FROM findings WHERE check_id = $1 AND bucket = $2 ORDER BY id DESC LIMIT 1', [`volume:${ASSET}`, bucket]);
  return Number(rows[0]!.id);
}

describe('profile findings', () => {
  it('fails the volume check on an injected drop, saying what was seen and what was expected', async () => {
    const { context } = harness(() => T0);
    const result = await profile(context);
    const volume = volumeOf(result.findings);
    const observed = Math.ceil(rowsOnDay(-1) / 10);
    expect(volume).toMatchObject({ status: 'fail', observed, bucket: iso(-1), kind: 'volume', asset: ASSET });
    expect(volume.expected?.low).toBeGreaterThan(observed * 3);
    expect(volume.message).toMatch(new RegExp(`^${ASSET.replaceAll('.', '\\.')}: ${observed} rows on Wednesday 2025-03-19, expected [\\d,]+–[\\d,]+`));
    const { rows } = await state.pool().query('SELECT status, bucket FROM findings WHERE check_id = $1', [`volume:${ASSET}`]);
    expect(rows).toEqual([{ status: 'fail', bucket: day(-1) }]);
    expect((await context.metrics.findings.get()).values).toEqual([{ labels: { kind: 'volume', status: 'fail' }, value: 1 }]);
  });

  it('keeps the flagged bucket out of the next baseline, and scores the next normal day ok', async () => {
    const { context } = harness(() => new Date(T0.getTime() + DAY));
    const result = await profile(context);
    expect(volumeOf(result.findings)).toMatchObject({ status: 'ok', bucket: iso(0), observed: rowsOnDay(0) });
    const { rows } = await state.pool().query('SELECT status FROM findings WHERE check_id = $1 ORDER BY bucket', [`volume:${ASSET}`]);
    expect(rows.map((row: { status: string }) => row.status)).toEqual(['fail', 'ok']);
    const series = await seriesAt(day(1));
    expect(series.get(iso(-1))).toMatchObject({ value: Math.ceil(rowsOnDay(-1) / 10), excluded: true });
    expect(series.get(iso(-2))?.excluded).toBeUndefined();
    expect(series.get(iso(0))?.excluded).toBeUndefined();
  });

  it('takes a bucket out of the baseline once its finding is marked expected', async () => {
    const id = await findingIdFor(iso(0));
    const mark = await markFindingExpected(state.pool(), id, 'alice', T0);
    expect(mark).toEqual({ findingId: id, check: `volume:${ASSET}`, bucket: day(0), by: 'alice', at: T0 });
    expect((await seriesAt(day(1))).get(iso(0))?.excluded).toBe(true);
  });

  it('refuses to mark a finding that does not exist or is not about a bucket', async () => {
    await expect(markFindingExpected(state.pool(), 987_654_321, 'bob', T0)).rejects.toMatchObject({ code: 'finding_not_found' });
    await insertFindings(state.pool(), [{ check: 'freshness:x.y.z', kind: 'freshness', asset: 'x.y.z', status: 'fail', observed: 1, message: 'x.y.z: stale' }], T0);
    const { rows } = await state.pool().query<{ id: string }>("SELECT id FROM findings WHERE check_id = 'freshness:x.y.z'");
    await expect(markFindingExpected(state.pool(), Number(rows[0]!.id), 'bob', T0)).rejects.toMatchObject({ code: 'finding_without_bucket' });
  });
});

describe('applyRetention', () => {
  // Far before every other row in this database, so only the rows made here are old enough.
  const now = new Date('2024-01-01T00:00:00Z');

  it('deletes observations and findings older than their retention, in batches, and keeps the rest', async () => {
    const old = Array.from({ length: 5 }, (_, i) => ({ asset: 'ret.a.b', metric: 'rows', column: '', bucket: new Date(now.getTime() - (20 + i) * DAY), value: i }));
    const recent = { asset: 'ret.a.b', metric: 'rows', column: '', bucket: new Date(now.getTime() - 2 * DAY), value: 9 };
    await upsertObservations(state.pool(), [...old, recent], now);
    const finding: Finding = { check: 'volume:ret.a.b', kind: 'volume', asset: 'ret.a.b', status: 'ok', observed: 1, message: 'ok' };
    for (const age of [40, 35, 31, 1]) await insertFindings(state.pool(), [finding], new Date(now.getTime() - age * DAY));

    const result = await applyRetention(state.pool(), { observationsMs: 10 * DAY, findingsMs: 30 * DAY, now, batch: 2 }, new AbortController().signal);
    expect(result).toEqual({ observations: 5, findings: 3 });
    const { rows: observations } = await state.pool().query("SELECT value FROM observations WHERE asset = 'ret.a.b'");
    expect(observations).toEqual([{ value: 9 }]);
    const { rows: findings } = await state.pool().query("SELECT evaluated_at FROM findings WHERE asset = 'ret.a.b'");
    expect(findings).toEqual([{ evaluated_at: new Date(now.getTime() - DAY) }]);
    expect(await state.pool().query('SELECT count(*)::int AS n FROM findings WHERE check_id = $1', [`volume:${ASSET}`])).toMatchObject({ rows: [{ n: 2 }] });
  });

  it('stops between batches when aborted', async () => {
    await upsertObservations(state.pool(), [{ asset: 'ret.c.d', metric: 'rows', column: '', bucket: new Date(now.getTime() - 50 * DAY), value: 1 }], now);
    const controller = new AbortController();
    controller.abort();
    expect(await applyRetention(state.pool(), { observationsMs: DAY, findingsMs: DAY, now }, controller.signal)).toEqual({ observations: 0, findings: 0 });
    expect((await state.pool().query("SELECT count(*)::int AS n FROM observations WHERE asset = 'ret.c.d'")).rows).toEqual([{ n: 1 }]);
  });
});
