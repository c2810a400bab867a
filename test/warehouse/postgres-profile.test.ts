import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/errors.ts';
import type { BucketProfile, ColumnMeasure, Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse, rejectionOf } from './warehouse-fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.parse('2024-03-10T00:00:00Z');

interface Sale {
  soldAt: number;
  amount: number | null;
  qty: number;
  note: string | null;
  flag: boolean;
}

// Deterministic rows with zeros, NULLs, repeats and varying lengths; expectations are computed
// from these in plain TypeScript, independently of the SQL under test.
const SALES: Sale[] = Array.from({ length: 240 }, (_, i) => ({
  soldAt: BASE + i * 17 * 60_000 + (i % 3) * 1_234,
  amount: i % 7 === 0 ? null : i % 5 === 0 ? 0 : i * 1.5,
  qty: i % 3,
  note: i % 4 === 0 ? null : 'x'.repeat((i % 6) + 1),
  flag: i % 2 === 0,
}));

let database: TestDatabase;
let warehouse: Warehouse;
let statements: string[];
const sales = { schema: 'shop', name: 'sales' };

beforeAll(async () => {
  database = await createBlankDatabase();
  const pool = database.pool();
  await pool.query(`
    CREATE SCHEMA shop;
    CREATE TABLE shop.sales (id int, sold_at timestamptz, sold_local timestamp, sold_text text, amount numeric(10,2), qty int, note text, flag boolean);
    CREATE TABLE shop.daily (day date, n int);
    INSERT INTO shop.daily VALUES ('2024-03-01', 1), ('2024-03-01', 2), ('2024-03-02', 3), ('2024-03-04', 4), (NULL, 5);
    CREATE TABLE shop.empty (at timestamptz);
    CREATE TABLE shop.evolving (at timestamptz, v numeric);
    INSERT INTO shop.evolving VALUES ('2024-03-10T01:00:00Z', 1), ('2024-03-10T01:30:00Z', 3);`);
  await pool.query(
    `INSERT INTO shop.sales (id, sold_at, sold_local, sold_text, amount, qty, note, flag)
     SELECT i, t, t AT TIME ZONE 'UTC', to_char(t AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD"T"HH24:MI:SS.MS') || '+01:00', a, q, n, f
     FROM unnest($1::int[], $2::timestamptz[], $3::numeric[], $4::int[], $5::text[], $6::bool[]) AS s(i, t, a, q, n, f)`,
    [
      SALES.map((_, i) => i),
      SALES.map((sale) => new Date(sale.soldAt).toISOString()),
      SALES.map((sale) => sale.amount),
      SALES.map((sale) => sale.qty),
      SALES.map((sale) => sale.note),
      SALES.map((sale) => sale.flag),
    ],
  );
  ({ warehouse, statements } = recordingWarehouse(database.url));
});

afterAll(async () => {
  await warehouse?.close();
  await database?.drop();
});

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function expectedBuckets(from: number, to: number, bucketMs: number) {
  const groups = new Map<number, Sale[]>();
  for (const sale of SALES.filter((s) => s.soldAt >= from && s.soldAt < to)) {
    const start = Math.floor(sale.soldAt / bucketMs) * bucketMs;
    groups.set(start, [...(groups.get(start) ?? []), sale]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, rows]) => {
      const amounts = rows.flatMap((row) => (row.amount === null ? [] : [row.amount]));
      const m = mean(amounts);
      const notes = rows.flatMap((row) => (row.note === null ? [] : [row.note]));
      return {
        bucket: start,
        rowCount: rows.length,
        maxTimestamp: Math.max(...rows.map((row) => row.soldAt)),
        nullFraction: (rows.length - amounts.length) / rows.length,
        zeroFraction: amounts.filter((a) => a === 0).length / rows.length,
        mean: m,
        stddev: Math.sqrt(amounts.reduce((sum, a) => sum + (a - m) ** 2, 0) / (amounts.length - 1)),
        min: Math.min(...amounts),
        max: Math.max(...amounts),
        distinctQty: new Set(rows.map((row) => row.qty)).size,
        avgLength: mean(notes.map((note) => note.length)),
        flagMean: rows.filter((row) => row.flag).length / rows.length,
      };
    });
}

describe('profileBuckets', () => {
  const from = BASE + 2 * HOUR + 30 * 60_000;
  const to = BASE + 40 * HOUR;

  it('returns rows and column measures per UTC-aligned bucket, matching the seeded data', async () => {
    const profiles = await warehouse.profileBuckets({
      table: sales,
      timeColumn: 'sold_at',
      bucketMs: HOUR,
      from: new Date(from),
      to: new Date(to),
      columns: [
        { column: 'amount', measures: ['null_fraction', 'zero_fraction', 'mean', 'stddev', 'min', 'max'] },
        { column: 'qty', measures: ['distinct_count'] },
        { column: 'note', measures: ['avg_length'] },
        { column: 'flag', measures: ['mean'] },
      ],
    });
    const expected = expectedBuckets(from, to, HOUR);
    expect(expected.length).toBeGreaterThan(30);
    expect(profiles.map((p) => p.bucket.getTime())).toEqual(expected.map((e) => e.bucket));
    expected.forEach((want, index) => {
      const got = profiles[index] as BucketProfile;
      expect(got.rowCount).toBe(want.rowCount);
      expect(got.maxTimestamp?.getTime()).toBe(want.maxTimestamp);
      expect(got.columns.amount?.null_fraction).toBeCloseTo(want.nullFraction, 10);
      expect(got.columns.amount?.zero_fraction).toBeCloseTo(want.zeroFraction, 10);
      expect(got.columns.amount?.mean).toBeCloseTo(want.mean, 8);
      if (Number.isNaN(want.stddev)) expect(got.columns.amount?.stddev).toBeNull();
      else expect(got.columns.amount?.stddev).toBeCloseTo(want.stddev, 8);
      expect(got.columns.amount?.min).toBe(want.min);
      expect(got.columns.amount?.max).toBe(want.max);
      expect(got.columns.qty?.distinct_count).toBe(want.distinctQty);
      expect(got.columns.note?.avg_length).toBeCloseTo(want.avgLength, 10);
      expect(got.columns.flag?.mean).toBeCloseTo(want.flagMean, 10);
    });
  });

  it('reads the whole range in one statement against the table', async () => {
    const query = {
      table: sales,
      timeColumn: 'sold_at',
      bucketMs: HOUR,
      from: new Date(from),
      to: new Date(to),
      columns: ['amount', 'qty', 'note'].map((column) => ({ column, measures: ['null_fraction', 'distinct_count'] as ColumnMeasure[] })),
    };
    await warehouse.listTables({ schemas: ['shop'] });
    statements.length = 0;
    await warehouse.profileBuckets(query);
    expect(statements.filter((sql) => sql.includes('"shop"."sales"'))).toHaveLength(1);
    // Column types were cached by the listing, so the read is just that statement.
    expect(statements).toHaveLength(1);
  });

  it('reports unreadable values in a text time column as a query error that says so', async () => {
    await database.pool().query(`CREATE TABLE shop.garbled (at text); INSERT INTO shop.garbled VALUES ('2024-03-10T01:00:00Z'), ('yesterday-ish')`);
    const error = await rejectionOf(
      warehouse.profileBuckets({ table: { schema: 'shop', name: 'garbled' }, timeColumn: 'at', bucketMs: HOUR, from: new Date(BASE), to: new Date(BASE + DAY) }),
    );
    expect(error.code).toBe('warehouse_query');
    expect(error.message).toContain('"shop"."garbled"');
    expect(error.message).toMatch(/could not be read as expected/);
  });

  it('gives the same buckets for timestamp, timestamptz and text time columns', async () => {
    const query = { table: sales, bucketMs: 6 * HOUR, from: new Date(from), to: new Date(to) };
    const counts = async (timeColumn: string) =>
      (await warehouse.profileBuckets({ ...query, timeColumn })).map((p) => [p.bucket.toISOString(), p.rowCount, p.maxTimestamp?.getTime()]);
    const expected = expectedBuckets(from, to, 6 * HOUR).map((e) => [new Date(e.bucket).toISOString(), e.rowCount, e.maxTimestamp]);
    expect(await counts('sold_at')).toEqual(expected);
    expect(await counts('sold_local')).toEqual(expected);
    expect(await counts('sold_text')).toEqual(expected);
  });

  it('buckets a date column by UTC day and returns only days holding rows', async () => {
    const profiles = await warehouse.profileBuckets({
      table: { schema: 'shop', name: 'daily' },
      timeColumn: 'day',
      bucketMs: DAY,
      from: new Date('2024-03-01T00:00:00Z'),
      to: new Date('2024-03-10T00:00:00Z'),
      columns: [{ column: 'n', measures: ['max', 'min'] }],
    });
    expect(profiles).toEqual([
      { bucket: new Date('2024-03-01T00:00:00Z'), rowCount: 2, maxTimestamp: new Date('2024-03-01T00:00:00Z'), columns: { n: { max: 2, min: 1 } } },
      { bucket: new Date('2024-03-02T00:00:00Z'), rowCount: 1, maxTimestamp: new Date('2024-03-02T00:00:00Z'), columns: { n: { max: 3, min: 3 } } },
      { bucket: new Date('2024-03-04T00:00:00Z'), rowCount: 1, maxTimestamp: new Date('2024-03-04T00:00:00Z'), columns: { n: { max: 4, min: 4 } } },
    ]);
  });

  it('returns no buckets for a range without rows', async () => {
    const profiles = await warehouse.profileBuckets({
      table: sales,
      timeColumn: 'sold_at',
      bucketMs: HOUR,
      from: new Date('2030-01-01T00:00:00Z'),
      to: new Date('2030-01-02T00:00:00Z'),
      columns: [{ column: 'amount', measures: ['mean'] }],
    });
    expect(profiles).toEqual([]);
  });

  it('rejects unknown columns and tables with a typed error naming warehouse, table and column', async () => {
    const base = { table: sales, bucketMs: HOUR, from: new Date(from), to: new Date(to) };
    const column = await rejectionOf(warehouse.profileBuckets({ ...base, timeColumn: 'sold_at', columns: [{ column: 'amuont', measures: ['mean'] }] }));
    expect(column).toBeInstanceOf(WarehouseError);
    expect(column.code).toBe('warehouse_missing_object');
    expect(column.warehouse).toBe('analytics');
    expect(column.message).toMatch(/"amuont".*"shop"\."sales".*"analytics"/);

    const time = await rejectionOf(warehouse.profileBuckets({ ...base, timeColumn: 'created' }));
    expect(time.code).toBe('warehouse_missing_object');

    const table = await rejectionOf(warehouse.profileBuckets({ ...base, table: { schema: 'shop', name: 'nope' }, timeColumn: 'at' }));
    expect(table.code).toBe('warehouse_missing_object');
    expect(table.message).toContain('"shop"."nope"');
  });

  it('refuses measures that do not fit the column type', async () => {
    const base = { table: sales, timeColumn: 'sold_at', bucketMs: HOUR, from: new Date(from), to: new Date(to) };
    const meanOfText = await rejectionOf(warehouse.profileBuckets({ ...base, columns: [{ column: 'note', measures: ['mean'] }] }));
    expect(meanOfText.code).toBe('warehouse_query');
    expect(meanOfText.message).toMatch(/"mean" needs a numeric or boolean column/);
    const lengthOfNumber = await rejectionOf(warehouse.profileBuckets({ ...base, columns: [{ column: 'amount', measures: ['avg_length'] }] }));
    expect(lengthOfNumber.message).toMatch(/"avg_length" needs a text column/);
    const numberAsTime = await rejectionOf(warehouse.profileBuckets({ ...base, timeColumn: 'qty' }));
    expect(numberAsTime.message).toMatch(/not a time/);
  });

  it('follows column changes made after the columns were cached', async () => {
    const evolving = { schema: 'shop', name: 'evolving' };
    const query = { table: evolving, timeColumn: 'at', bucketMs: HOUR, from: new Date(BASE), to: new Date(BASE + DAY) };
    await warehouse.listTables({ schemas: ['shop'] });
    await database.pool().query(`ALTER TABLE shop.evolving ALTER COLUMN v TYPE text USING v::text || 'x', ADD COLUMN w int DEFAULT 0`);
    const [profile] = await warehouse.profileBuckets({
      ...query,
      columns: [
        { column: 'v', measures: ['avg_length'] },
        { column: 'w', measures: ['zero_fraction'] },
      ],
    });
    expect(profile?.columns).toEqual({ v: { avg_length: 2 }, w: { zero_fraction: 1 } });
  });
});

describe('maxTimestamp', () => {
  it('returns the newest value of timestamp, date and text columns', async () => {
    const newest = Math.max(...SALES.map((sale) => sale.soldAt));
    expect((await warehouse.maxTimestamp(sales, 'sold_at'))?.getTime()).toBe(newest);
    expect((await warehouse.maxTimestamp(sales, 'sold_local'))?.getTime()).toBe(newest);
    expect((await warehouse.maxTimestamp(sales, 'sold_text'))?.getTime()).toBe(newest);
    expect(await warehouse.maxTimestamp({ schema: 'shop', name: 'daily' }, 'day')).toEqual(new Date('2024-03-04T00:00:00Z'));
  });

  it('returns null for an empty table and a typed error for an unknown column', async () => {
    expect(await warehouse.maxTimestamp({ schema: 'shop', name: 'empty' }, 'at')).toBeNull();
    const error = await rejectionOf(warehouse.maxTimestamp(sales, 'loaded_at'));
    expect(error.code).toBe('warehouse_missing_object');
  });
});
