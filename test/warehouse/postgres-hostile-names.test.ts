// Names chosen to break naive SQL building: quotes, injections, spaces, dots, unicode, emoji
// and reserved words. Every one must be listed and profiled as itself, and nothing else touched.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse } from './warehouse-fixtures.ts';

const SCHEMA = 'Weird "schema".v2';
const TABLES = ['x"; drop table y; --', "Robert'); DROP TABLE students;--", 'with space', 'dotted.name', 'bestellungen_überfällig', '🚀 launches', 'select'];

let database: TestDatabase;
let warehouse: Warehouse;

beforeAll(async () => {
  database = await createBlankDatabase();
  // Written out by hand, not with the helper under test, so a quoting bug cannot hide itself.
  await database.pool().query(`
    CREATE TABLE public.y (id int);
    CREATE TABLE public.students (id int);
    CREATE SCHEMA "Weird ""schema"".v2";
    CREATE TABLE "Weird ""schema"".v2"."x""; drop table y; --" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."Robert'); DROP TABLE students;--" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."with space" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."dotted.name" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."bestellungen_überfällig" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."🚀 launches" ("select" int, "at" timestamptz);
    CREATE TABLE "Weird ""schema"".v2"."select" ("select" int, "at" timestamptz);`);
  for (const name of TABLES) {
    await database.pool().query(
      `INSERT INTO "Weird ""schema"".v2".${'"' + name.replaceAll('"', '""') + '"'} VALUES (0, '2024-01-01T00:10:00Z'), (5, '2024-01-01T00:20:00Z'), (NULL, '2024-01-01T01:05:00Z')`,
    );
  }
  ({ warehouse } = recordingWarehouse(database.url));
});

afterAll(async () => {
  await warehouse?.close();
  await database?.drop();
});

describe('hostile identifiers', () => {
  it('lists every table under its raw name with raw column names', async () => {
    const tables = await warehouse.listTables({ schemas: [SCHEMA] });
    expect(tables.map((table) => table.name).sort()).toEqual([...TABLES].sort());
    for (const table of tables) {
      expect(table.schema).toBe(SCHEMA);
      expect(table.columns.map((column) => column.name)).toEqual(['select', 'at']);
    }
  });

  it('profiles and reads the newest timestamp of each, leaving every other table alone', async () => {
    for (const name of TABLES) {
      const table = { schema: SCHEMA, name };
      const profiles = await warehouse.profileBuckets({
        table,
        timeColumn: 'at',
        bucketMs: 3_600_000,
        from: new Date('2024-01-01T00:00:00Z'),
        to: new Date('2024-01-02T00:00:00Z'),
        columns: [{ column: 'select', measures: ['null_fraction', 'zero_fraction', 'max'] }],
      });
      expect(profiles.map((p) => [p.bucket.toISOString(), p.rowCount, p.columns.select])).toEqual([
        ['2024-01-01T00:00:00.000Z', 2, { null_fraction: 0, zero_fraction: 0.5, max: 5 }],
        ['2024-01-01T01:00:00.000Z', 1, { null_fraction: 1, zero_fraction: 0, max: null }],
      ]);
      expect(await warehouse.maxTimestamp(table, 'at')).toEqual(new Date('2024-01-01T01:05:00Z'));
    }
    const survivors = await database.pool().query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('y', 'students')",
    );
    expect(survivors.rows[0]?.n).toBe('2');
    expect(await warehouse.listTables({ schemas: [SCHEMA] })).toHaveLength(TABLES.length);
  });
});
