// Quantiles, top-k value counts and `fitting` measures of profileBuckets, checked against values
// computed here in plain TypeScript from the same seeded rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketProfile, BucketQuery, Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse, rejectionOf } from './warehouse-fixtures.ts';

const HOUR = 3_600_000;
const BASE = Date.parse('2024-05-01T00:00:00Z');
const STATUSES = ['paid', 'paid', 'paid', 'shipped', 'shipped', 'refunded', null];

interface Row {
  at: number;
  amount: number | null;
  status: string | null;
  /** A column named like the statement's own aliases, to prove they cannot collide. */
  bucket: number;
}

const ROWS: Row[] = Array.from({ length: 300 }, (_, i) => ({
  at: BASE + i * 11 * 60_000,
  amount: i % 9 === 0 ? null : (i * 37) % 101,
  status: STATUSES[(i * 5) % STATUSES.length] ?? null,
  bucket: i % 4,
}));

let database: TestDatabase;
let warehouse: Warehouse;
let statements: string[];
const table = { schema: 'shop', name: 'orders' };
const range = { from: new Date(BASE), to: new Date(BASE + 48 * HOUR) };

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query('CREATE SCHEMA shop; CREATE TABLE shop.orders (at timestamptz, amount numeric, status text, bucket int, pw_time text)');
  await database.pool().query(
    `INSERT INTO shop.orders (at, amount, status, bucket) SELECT * FROM unnest($1::timestamptz[], $2::numeric[], $3::text[], $4::int[])`,
    [ROWS.map((r) => new Date(r.at).toISOString()), ROWS.map((r) => r.amount), ROWS.map((r) => r.status), ROWS.map((r) => r.bucket)],
  );
  ({ warehouse, statements } = recordingWarehouse(database.url));
});

afterAll(async () => {
  await warehouse?.close();
  await database?.drop();
});

/** percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}

function rowsByBucket(bucketMs: number): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const row of ROWS.filter((r) => r.at >= range.from.getTime() && r.at < range.to.getTime())) {
    const start = Math.floor(row.at / bucketMs) * bucketMs;
    groups.set(start, [...(groups.get(start) ?? []), row]);
  }
  return groups;
}

function topOf(values: Array<string | null>, k: number): Array<{ value: string; count: number }> {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : 1))
    .slice(0, k)
    .map(([value, count]) => ({ value, count }));
}

describe('profileBuckets: quantiles and top values', () => {
  const query: BucketQuery = {
    table,
    timeColumn: 'at',
    bucketMs: 6 * HOUR,
    ...range,
    columns: [
      { column: 'amount', measures: ['mean'], quantiles: [0.05, 0.5, 0.95] },
      { column: 'status', measures: ['null_fraction'], topK: 2 },
      { column: 'bucket', measures: ['distinct_count'], topK: 10 },
    ],
  };

  it('returns quantiles of numeric columns and top-k counts per bucket, matching the data', async () => {
    const profiles = await warehouse.profileBuckets(query);
    const groups = rowsByBucket(6 * HOUR);
    expect(profiles.map((p) => p.bucket.getTime())).toEqual([...groups.keys()].sort((a, b) => a - b));
    for (const profile of profiles) {
      const rows = groups.get(profile.bucket.getTime()) as Row[];
      const amounts = rows.flatMap((r) => (r.amount === null ? [] : [r.amount]));
      expect(profile.rowCount).toBe(rows.length);
      for (const q of [0.05, 0.5, 0.95]) expect(profile.quantiles?.amount?.[String(q)]).toBeCloseTo(percentileCont(amounts, q), 8);
      expect(profile.topValues?.status).toEqual(topOf(rows.map((r) => r.status), 2));
      expect(profile.topValues?.bucket).toEqual(topOf(rows.map((r) => String(r.bucket)), 10));
      expect(profile.columns.bucket?.distinct_count).toBe(new Set(rows.map((r) => r.bucket)).size);
      expect(profile.columns.status?.null_fraction).toBeCloseTo(rows.filter((r) => r.status === null).length / rows.length, 10);
    }
  });

  it('still reads the table in one statement', async () => {
    await warehouse.listTables({ schemas: ['shop'] });
    statements.length = 0;
    await warehouse.profileBuckets(query);
    expect(statements.filter((sql) => sql.includes('"shop"."orders"'))).toHaveLength(1);
    expect(statements).toHaveLength(1);
  });

  it('leaves quantiles and top values out when none were asked for', async () => {
    const [profile] = await warehouse.profileBuckets({ ...query, columns: [{ column: 'amount', measures: ['max'] }] });
    expect(profile).not.toHaveProperty('quantiles');
    expect(profile).not.toHaveProperty('topValues');
  });

  it('takes every measure that fits the type with `fitting`, and quantiles only of numbers', async () => {
    const profile = (
      await warehouse.profileBuckets({
      ...query,
      columns: [
        { column: 'amount', measures: 'fitting', quantiles: [0.5] },
        { column: 'status', measures: 'fitting', quantiles: [0.5], topK: 3 },
      ],
      })
    )[0] as BucketProfile;
    expect(Object.keys(profile.columns.amount ?? {}).sort()).toEqual(['distinct_count', 'max', 'mean', 'min', 'null_fraction', 'stddev', 'zero_fraction']);
    expect(Object.keys(profile.columns.status ?? {}).sort()).toEqual(['avg_length', 'distinct_count', 'null_fraction']);
    expect(Object.keys(profile.quantiles ?? {})).toEqual(['amount']);
    expect(profile.topValues?.status).toHaveLength(3);
  });

  it('refuses quantiles asked explicitly of a text column', async () => {
    const error = await rejectionOf(warehouse.profileBuckets({ ...query, columns: [{ column: 'status', measures: [], quantiles: [0.5] }] }));
    expect(error.code).toBe('warehouse_query');
    expect(error.message).toMatch(/"quantiles" needs a numeric column/);
  });

  it('gives an empty top list for a bucket whose values are all NULL', async () => {
    const [profile] = await warehouse.profileBuckets({ ...query, columns: [{ column: 'pw_time', measures: ['null_fraction'], topK: 5 }] });
    expect(profile?.topValues).toEqual({ pw_time: [] });
    expect(profile?.columns.pw_time?.null_fraction).toBe(1);
  });
});
