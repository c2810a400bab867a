// SQLMesh state read from a real PostgreSQL: the v60 state tables, filled from SQLMesh's own
// dumps, with states driven by inserting rows the way SQLMesh writes them. Each test gets a schema
// of its own in one database.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSqlmeshFindings } from '../../../src/collect/sqlmesh/collect-sqlmesh.ts';
import { readSqlmeshState, withSqlmeshReadTransaction } from '../../../src/collect/sqlmesh/read-sqlmesh-state.ts';
import { sqlmeshSourceSchema } from '../../../src/collect/sqlmesh/sqlmesh-config.ts';
import type { Finding } from '../../../src/types.ts';
import { quoteIdentifier } from '../../../src/warehouse/quote.ts';
import { createBlankDatabase, type TestDatabase } from '../../helpers/postgres.ts';
import { day, dumpRows, written, insertInterval, insertRow, loadSqlmeshFixture, prodSnapshot } from './sqlmesh-state-fixture.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createBlankDatabase();
});

afterAll(async () => {
  await db?.drop();
});

async function freshState(schema = `sqlmesh_${randomBytes(4).toString('hex')}`): Promise<string> {
  await loadSqlmeshFixture(db.pool(), schema);
  return schema;
}

function source(schema: string, extra: Record<string, unknown> = {}) {
  return sqlmeshSourceSchema.parse({ name: 'shop', url: db.url, schema, ...extra });
}

function byAsset(findings: readonly Finding[], asset: string): Finding {
  const finding = findings.find((candidate) => candidate.asset === asset);
  if (finding === undefined) throw new Error(`no finding for ${asset} among ${findings.map((f) => f.asset).join(', ')}`);
  return finding;
}

const at = (iso: string): Date => new Date(iso);

describe('SQLMesh state → interval findings', () => {
  it('judges every interval model of prod as ok when all its intervals are there, and skips views, embedded models and seeds', async () => {
    const schema = await freshState();
    const result = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));

    expect(result.findings.map((finding) => finding.asset).sort()).toEqual([
      'sqlmesh:sushi.customer_revenue_by_day',
      'sqlmesh:sushi.customers',
      'sqlmesh:sushi.items',
      'sqlmesh:sushi.order_items',
      'sqlmesh:sushi.orders',
      'sqlmesh:sushi.waiter_as_customer_by_day',
      'sqlmesh:sushi.waiter_revenue_by_day',
    ]);
    expect(result.findings.every((finding) => finding.status === 'ok')).toBe(true);
    const revenue = byAsset(result.findings, 'sqlmesh:sushi.waiter_revenue_by_day');
    expect(revenue).toMatchObject({ check: 'run:sqlmesh:sushi.waiter_revenue_by_day:intervals', kind: 'run', observed: 0, expected: { low: 0, high: 0 } });
    expect(revenue.message).toBe('sqlmesh:sushi.waiter_revenue_by_day: all 6 daily intervals from 2023-01-02 to 2023-01-07 present; newest filled ends 2023-01-07');
    expect(result.schemaVersion).toBe(60);
    expect(result.notes).toEqual([]);
  });

  it('fails naming the gap a restatement removed, and an interval added back later fills it again', async () => {
    const schema = await freshState();
    const revenue = prodSnapshot('"sushi"."waiter_revenue_by_day"');
    await insertInterval(db.pool(), schema, { ...revenue, start: day(3), end: day(5), createdTs: written(9), isRemoved: true });

    const gap = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    expect(byAsset(gap.findings, 'sqlmesh:sushi.waiter_revenue_by_day')).toMatchObject({
      status: 'fail',
      observed: 2,
      bucket: '2023-01-03T00:00:00.000Z',
      message: 'sqlmesh:sushi.waiter_revenue_by_day: 2 daily intervals missing (2023-01-03, 2023-01-04); newest filled ends 2023-01-07',
    });
    expect(byAsset(gap.findings, 'sqlmesh:sushi.orders').status).toBe('ok');

    await insertInterval(db.pool(), schema, { ...revenue, start: day(3), end: day(4), createdTs: written(10) });
    const half = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    expect(byAsset(half.findings, 'sqlmesh:sushi.waiter_revenue_by_day')).toMatchObject({ status: 'fail', observed: 1 });
    expect(byAsset(half.findings, 'sqlmesh:sushi.waiter_revenue_by_day').message).toContain('1 daily interval missing (2023-01-04)');
  });

  it('lets the newest interval be missing within late_after of its run, warns past it, and fails once several are missing', async () => {
    const schema = await freshState();
    const orders = 'sqlmesh:sushi.orders';

    const inGrace = await collectSqlmeshFindings(source(schema, { late_after: '1h' }), at('2023-01-09T00:30:00Z'));
    expect(byAsset(inGrace.findings, orders)).toMatchObject({ status: 'ok', observed: 0 });
    expect(byAsset(inGrace.findings, orders).message).toContain('daily interval 2023-01-08 not filled yet');

    const late = await collectSqlmeshFindings(source(schema, { late_after: '1h' }), at('2023-01-09T02:00:00Z'));
    expect(byAsset(late.findings, orders)).toMatchObject({ status: 'warn', observed: 1, bucket: '2023-01-08T00:00:00.000Z' });
    expect(byAsset(late.findings, orders).message).toBe(
      'sqlmesh:sushi.orders: daily interval 2023-01-08 is late: the 2023-01-09 00:00 UTC run should have filled it 2h ago (grace 1h); newest filled ends 2023-01-07',
    );

    const several = await collectSqlmeshFindings(source(schema, { late_after: '1h' }), at('2023-01-10T02:00:00Z'));
    expect(byAsset(several.findings, orders)).toMatchObject({ status: 'fail', observed: 2 });
    expect(byAsset(several.findings, orders).message).toContain('2 daily intervals missing (2023-01-08, 2023-01-09)');
  });

  it('counts neither dev intervals nor removed ones, and merges an uncompacted interval with the compacted rows', async () => {
    const schema = await freshState();
    const orders = prodSnapshot('"sushi"."orders"');
    const items = prodSnapshot('"sushi"."items"');
    // A dev table of the same version holding 2023-01-08 does not fill prod's.
    await insertInterval(db.pool(), schema, { ...orders, start: day(8), end: day(9), createdTs: written(9), isDev: true });
    // Added then removed: as if never processed.
    const customers = prodSnapshot('"sushi"."customers"');
    await insertInterval(db.pool(), schema, { ...customers, start: day(8), end: day(9), createdTs: written(9) });
    await insertInterval(db.pool(), schema, { ...customers, start: day(8), end: day(9), createdTs: written(10), isRemoved: true });
    // An ordinary (uncompacted) prod run.
    await insertInterval(db.pool(), schema, { ...items, start: day(8), end: day(9), createdTs: written(9) });

    const result = await collectSqlmeshFindings(source(schema), at('2023-01-09T02:00:00Z'));
    expect(byAsset(result.findings, 'sqlmesh:sushi.orders').status).toBe('warn');
    expect(byAsset(result.findings, 'sqlmesh:sushi.customers').status).toBe('warn');
    expect(byAsset(result.findings, 'sqlmesh:sushi.items')).toMatchObject({ status: 'ok', observed: 0 });
    expect(byAsset(result.findings, 'sqlmesh:sushi.items').message).toContain('newest filled ends 2023-01-08');
  });

  it('reads a state version it does not know, saying so in a note', async () => {
    const schema = await freshState();
    await db.pool().query(`update ${quoteIdentifier(schema)}._versions set schema_version = 240, sqlmesh_version = '9.0.0'`);

    const result = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    expect(result.schemaVersion).toBe(240);
    expect(result.findings).toHaveLength(7);
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toContain('state schema version 240 (written by SQLMesh 9.0.0) is not one pipewarden knows (60–101); read leniently anyway');
  });

  it('reads the newest known layout (dev_version, is_pending_restatement, last_altered_ts) and does not count a pending restatement as filled', async () => {
    const schema = await freshState();
    const table = `${quoteIdentifier(schema)}._intervals`;
    await db.pool().query(`alter table ${table} add column dev_version text, add column is_pending_restatement boolean not null default false, add column last_altered_ts bigint`);
    await db.pool().query(`update ${quoteIdentifier(schema)}._versions set schema_version = 101`);
    const orders = prodSnapshot('"sushi"."orders"');
    const items = prodSnapshot('"sushi"."items"');
    await insertRow(db.pool(), schema, '_intervals', {
      id: 'pending1', created_ts: written(1), name: orders.name, identifier: null, version: orders.version, dev_version: null,
      start_ts: day(8), end_ts: day(9), is_dev: false, is_removed: false, is_compacted: false, is_pending_restatement: true, last_altered_ts: null,
    });
    await insertRow(db.pool(), schema, '_intervals', {
      id: 'run1', created_ts: written(1), name: items.name, identifier: '3721860967', version: items.version, dev_version: items.version,
      start_ts: day(8), end_ts: day(9), is_dev: false, is_removed: false, is_compacted: false, is_pending_restatement: false, last_altered_ts: written(1),
    });

    const result = await collectSqlmeshFindings(source(schema), at('2023-01-09T02:00:00Z'));
    expect(result.notes).toEqual([]);
    expect(byAsset(result.findings, 'sqlmesh:sushi.orders').status).toBe('warn');
    expect(byAsset(result.findings, 'sqlmesh:sushi.items').status).toBe('ok');
  });

  it('keeps a model name with quotes and a shell command as data, in the query and in the finding', async () => {
    const schema = await freshState();
    const hostileNode = `sushi.it's"; rm -rf / #`;
    const hostileName = `"sushi"."it's""; rm -rf / #"`;
    const fingerprint = { data_hash: '1', metadata_hash: '2', parent_data_hash: '0', parent_metadata_hash: '0' };
    const snapshot = JSON.parse(String(dumpRows('_snapshots').find((row) => row['identifier'] === '1250207606')?.['snapshot'])) as { node: Record<string, unknown> };
    await insertRow(db.pool(), schema, '_snapshots', {
      name: hostileName,
      identifier: '3536962009',
      version: "v'; drop table _intervals; --",
      kind_name: 'INCREMENTAL_BY_TIME_RANGE',
      snapshot: JSON.stringify({ ...snapshot, name: hostileName, node: { ...snapshot.node, name: hostileNode } }),
      updated_ts: day(8),
    });
    const prod = (await db.pool().query<{ snapshots: string }>(`select snapshots from ${quoteIdentifier(schema)}._environments where name = 'prod'`)).rows[0];
    const entries = [...(JSON.parse(String(prod?.snapshots)) as unknown[]), { name: hostileName, version: "v'; drop table _intervals; --", fingerprint, kind_name: 'INCREMENTAL_BY_TIME_RANGE', node_type: 'model' }];
    await db.pool().query(`update ${quoteIdentifier(schema)}._environments set snapshots = $1 where name = 'prod'`, [JSON.stringify(entries)]);
    await insertInterval(db.pool(), schema, { name: hostileName, version: "v'; drop table _intervals; --", start: day(1), end: day(8), createdTs: written(8) });

    const result = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    expect(byAsset(result.findings, `sqlmesh:${hostileNode}`)).toMatchObject({ status: 'ok', check: `run:sqlmesh:${hostileNode}:intervals` });
    const intervals = await db.pool().query(`select count(*)::int as n from ${quoteIdentifier(schema)}._intervals`);
    expect(intervals.rows[0].n).toBe(12);
  });

  it('reads state tables from a schema whose name has a quote in it', async () => {
    const schema = await freshState(`sql"mesh state ${randomBytes(2).toString('hex')}`);
    const result = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    expect(result.findings).toHaveLength(7);
    expect(result.findings.every((finding) => finding.status === 'ok')).toBe(true);
  });

  it('selects models with globs and leaves out the excluded ones', async () => {
    const schema = await freshState();
    const result = await collectSqlmeshFindings(source(schema, { models: ['sushi.*_by_day'], exclude: ['sushi.waiter_*'] }), at('2023-01-08T06:00:00Z'));
    expect(result.findings.map((finding) => finding.asset)).toEqual(['sqlmesh:sushi.customer_revenue_by_day']);
  });

  it('says which environments exist when the configured one does not, and which schema lacks the tables', async () => {
    const schema = await freshState();
    await expect(readSqlmeshState({ name: 'shop', url: db.url, schema, environment: 'production', statementTimeoutMs: 5_000 }, at('2023-01-08T06:00:00Z'))).rejects.toThrow(
      /SQLMesh state "shop": environment "production" not found in ".*"\._environments \(environments there: "dev", "prod", "staging"\); set environment/,
    );
    await expect(readSqlmeshState({ name: 'shop', url: db.url, schema: 'not_there', environment: 'prod', statementTimeoutMs: 5_000 }, at('2023-01-08T06:00:00Z'))).rejects.toThrow(
      /SQLMesh state "shop": .*schema "not_there" does not hold SQLMesh's state tables; set schema to the gateway's state_schema/,
    );
  });

  it('names the row and field of a snapshot document that is not what SQLMesh writes, and judges the other models', async () => {
    const schema = await freshState();
    await db.pool().query(`update ${quoteIdentifier(schema)}._snapshots set snapshot = '{"name": "x"}' where identifier = '1250207606'`);
    const result = await collectSqlmeshFindings(source(schema), at('2023-01-08T06:00:00Z'));
    const orders = byAsset(result.findings, 'sqlmesh:sushi.orders');
    expect(orders.status).toBe('error');
    expect(orders.message).toContain('._snapshots[name="sushi"."orders", identifier=1250207606].snapshot: field.node:');
    expect(result.findings.filter((finding) => finding.status === 'ok')).toHaveLength(6);
  });
});

describe('the state database connection', () => {
  it('cannot write, even when the URL asks for a writable session', async () => {
    const schema = await freshState();
    const url = new URL(db.url);
    url.searchParams.set('options', '-c default_transaction_read_only=off');
    for (const candidate of [db.url, url.toString()]) {
      await expect(
        withSqlmeshReadTransaction(candidate, 5_000, (client) => client.query(`delete from ${quoteIdentifier(schema)}._intervals`)),
      ).rejects.toMatchObject({ code: '25006' });
    }
    const left = await db.pool().query(`select count(*)::int as n from ${quoteIdentifier(schema)}._intervals`);
    expect(left.rows[0].n).toBe(11);
  });

  it('cancels a statement that runs past the timeout', async () => {
    await expect(withSqlmeshReadTransaction(db.url, 200, (client) => client.query('select pg_sleep(5)'))).rejects.toMatchObject({ code: '57014' });
  });
});
