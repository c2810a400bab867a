// Schema changes and learned freshness cadences, through real sweeps: a warehouse whose tables
// are altered and fed between sweeps, a state DB that remembers the previous sweep.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/collect/sweep.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding } from '../../src/types.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const HOUR = 3_600_000;
const T0 = new Date('2025-09-01T00:00:00Z');
const hoursAfter = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

let state: TestDatabase;
let warehouseDb: TestDatabase;
let writer: pg.Client;

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  writer = new pg.Client({ connectionString: warehouseDb.url });
  await writer.connect();
  await writer.query(`
    create schema shop;
    create table shop.orders (id int, amount numeric(10,2), loaded_at timestamptz);
    create table shop.refunds (id int);
    create table shop.feed (id int, loaded_at timestamptz not null);
  `);
});

afterAll(async () => {
  await writer?.end();
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

async function sweepAt(name: string, now: Date, monitors: ConfigInput['monitors'], select?: string): Promise<Finding[]> {
  const config = daemonConfig(state.url, { [name]: warehouseDb.url }, { monitors });
  const warehouse = createPostgresWarehouse(name, config.warehouses[name]!, testLogger());
  try {
    const context = { config, warehouses: new Map([[name, warehouse]]), state: state.pool(), logger: testLogger(), metrics: new Metrics({ processMetrics: false }), now: () => now };
    const result = await runSweep(context, new AbortController().signal, select === undefined ? {} : { select });
    return result.findings;
  } finally {
    await warehouse.close();
  }
}

function schemaFinding(findings: readonly Finding[], asset: string): Finding | undefined {
  return findings.find((finding) => finding.check === `schema:${asset}`);
}

describe('schema checks across sweeps', () => {
  const monitors: ConfigInput['monitors'] = [{ assets: 'schemas.shop.*', exclude: ['schemas.shop.feed'], schema: true }];

  it('records a baseline, warns on an added column, fails on a removed or retyped one, and on a dropped table', async () => {
    const first = await sweepAt('schemas', hoursAfter(0), monitors);
    expect(schemaFinding(first, 'schemas.shop.orders')).toMatchObject({ status: 'ok' });

    await writer.query('alter table shop.orders add column coupon text');
    const added = schemaFinding(await sweepAt('schemas', hoursAfter(1), monitors), 'schemas.shop.orders');
    expect(added?.status).toBe('warn');
    expect(added?.message).toContain('coupon');

    const unchanged = schemaFinding(await sweepAt('schemas', hoursAfter(2), monitors), 'schemas.shop.orders');
    expect(unchanged?.status).toBe('ok');

    await writer.query('alter table shop.orders alter column amount type text, drop column loaded_at');
    const broken = schemaFinding(await sweepAt('schemas', hoursAfter(3), monitors), 'schemas.shop.orders');
    expect(broken?.status).toBe('fail');
    expect(broken?.message).toContain('amount');
    expect(broken?.message).toContain('loaded_at');

    await writer.query('drop table shop.refunds');
    const afterDrop = await sweepAt('schemas', hoursAfter(4), monitors);
    expect(schemaFinding(afterDrop, 'schemas.shop.refunds')).toMatchObject({ status: 'fail', asset: 'schemas.shop.refunds' });
  });

  it('reports a dropped table only when it is selected and a schema monitor covers it', async () => {
    await writer.query('create table shop.gone (id int)');
    await sweepAt('dropsel', hoursAfter(0), [{ assets: 'dropsel.shop.gone', schema: true }]);
    await writer.query('drop table shop.gone');
    const unselected = await sweepAt('dropsel', hoursAfter(1), [{ assets: 'dropsel.shop.gone', schema: true }], 'dropsel.shop.orders');
    expect(schemaFinding(unselected, 'dropsel.shop.gone')).toBeUndefined();
    const unwatched = await sweepAt('dropsel', hoursAfter(1), [{ assets: 'dropsel.shop.orders', schema: true }]);
    expect(schemaFinding(unwatched, 'dropsel.shop.gone')).toBeUndefined();
    const watched = await sweepAt('dropsel', hoursAfter(1), [{ assets: 'dropsel.shop.gone', schema: true }]);
    expect(schemaFinding(watched, 'dropsel.shop.gone')?.status).toBe('fail');
  });
});

describe('learned freshness through the sweep', () => {
  const monitors: ConfigInput['monitors'] = [{ assets: 'cadence.shop.feed', freshness: { column: 'loaded_at' } }];
  const freshness = (findings: readonly Finding[]) => findings.find((finding) => finding.check === 'freshness:cadence.shop.feed');

  it('learns an hourly feed from what the sweeps saw, and fails when it stops for hours', async () => {
    // The feed lands on the hour; a sweep runs ten minutes later, every hour, for twelve hours.
    let last: Finding | undefined;
    for (let hour = 0; hour < 12; hour += 1) {
      await writer.query('insert into shop.feed values ($1, $2)', [hour, hoursAfter(hour)]);
      last = freshness(await sweepAt('cadence', new Date(hoursAfter(hour).getTime() + 10 * 60_000), monitors));
    }
    expect(last?.status).toBe('ok');

    const stopped = freshness(await sweepAt('cadence', hoursAfter(16), monitors));
    expect(stopped?.status).toBe('fail');
    expect(stopped?.column).toBe('loaded_at');
    expect(stopped?.message).toMatch(/1h/);
  });

  it('says it is still learning rather than alerting when it has seen too few updates', async () => {
    const findings = await sweepAt('learning', hoursAfter(100), [{ assets: 'learning.shop.feed', freshness: { column: 'loaded_at' } }]);
    const finding = findings.find((candidate) => candidate.check === 'freshness:learning.shop.feed');
    expect(finding?.status).toBe('ok');
    expect(finding?.message).toMatch(/learning/i);
  });
});

describe('what a quiet sweep writes', () => {
  it('adds no observations and no findings when nothing changed since the previous sweep', async () => {
    const monitors: ConfigInput['monitors'] = [{ assets: 'quiet.shop.refunds_log', freshness: true, schema: true }];
    await writer.query('create table shop.refunds_log (id int)');
    await writer.query('insert into shop.refunds_log values (1)');
    await writer.query('analyze shop.refunds_log');
    await writer.query('select pg_stat_force_next_flush()');
    const asset = 'quiet.shop.refunds_log';
    const countObservations = async () => Number((await state.pool().query('select count(*) from observations where asset = $1', [asset])).rows[0].count);
    const countFindings = async () => Number((await state.pool().query('select count(*) from findings where asset = $1', [asset])).rows[0].count);
    await sweepAt('quiet', hoursAfter(0), monitors);
    const [observations, findings] = [await countObservations(), await countFindings()];
    expect(observations).toBeGreaterThan(0);
    expect(findings).toBeGreaterThan(0);
    await sweepAt('quiet', hoursAfter(1), monitors);
    await sweepAt('quiet', hoursAfter(2), monitors);
    expect(await countObservations()).toBe(observations);
    expect(await countFindings()).toBe(findings);

    await writer.query('insert into shop.refunds_log values (2)');
    await writer.query('select pg_stat_force_next_flush()');
    await sweepAt('quiet', hoursAfter(3), monitors);
    // The write moved the counter: one writes_total point (size and estimate may move too).
    expect(await countObservations()).toBeGreaterThan(observations);
  });
});
