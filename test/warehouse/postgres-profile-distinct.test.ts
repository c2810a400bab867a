// distinct_count of profileBuckets for every kind of column, with the edge cases count(DISTINCT)
// defines: NULLs are not values, equal values spelled differently are one value, an empty string
// is a value, and a bucket without rows is absent rather than zero. Expectations are written out.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketQuery, Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse } from './warehouse-fixtures.ts';

const HOUR = 3_600_000;
const BASE = Date.parse('2024-06-01T00:00:00Z');

let database: TestDatabase;
let warehouse: Warehouse;
let statements: string[];

// Hour 0: flags all true; hour 1: all false; hour 2: mixed with NULL; hour 3: only NULLs;
// hour 4: no rows at all; hour 5: one row.
const ROWS = `
  (0, true,  1.0,      'a',  'a',  'x',   '2024-06-01', 5),
  (0, true,  1.00,     'A',  'A',  'x  ', '2024-06-01', 5),
  (0, true,  NULL,     'a ', 'a ', 'y',   '2024-06-02', 6),
  (1, false, 'NaN',    '',   '',   'x',   '2024-06-01', NULL),
  (1, false, 'NaN',    '',   '',   NULL,  NULL,         NULL),
  (2, true,  -0.0,     NULL, NULL, 'z',   '2024-06-03', 7),
  (2, false, 0,        'b',  'b',  'z',   '2024-06-03', 8),
  (2, NULL,  2.5,      'b',  'c',  'z',   '2024-06-04', 8),
  (3, NULL,  NULL,     NULL, NULL, NULL,  NULL,         NULL),
  (3, NULL,  NULL,     NULL, NULL, NULL,  NULL,         NULL),
  (5, false, 9,        'q',  'q',  'q',   '2024-06-09', 9)`;

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query(`
    CREATE SCHEMA shop;
    CREATE COLLATION shop.case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    CREATE TABLE shop.mixed (at timestamptz, flag boolean, amount numeric, word text, tag varchar(5), code char(3), day date, n int, folded text COLLATE shop.case_blind);
    INSERT INTO shop.mixed
    SELECT '${new Date(BASE).toISOString()}'::timestamptz + h * interval '1 hour' + interval '1 minute', flag, amount::numeric, word, tag, code, day::date, n, word
    FROM (VALUES ${ROWS}) AS r(h, flag, amount, word, tag, code, day, n)`);
  ({ warehouse, statements } = recordingWarehouse(database.url));
});

afterAll(async () => {
  await warehouse?.close();
  await database?.drop();
});

const COLUMNS = ['flag', 'amount', 'word', 'tag', 'code', 'day', 'n', 'folded'];
const query: BucketQuery = {
  table: { schema: 'shop', name: 'mixed' },
  timeColumn: 'at',
  bucketMs: HOUR,
  from: new Date(BASE),
  to: new Date(BASE + 6 * HOUR),
  columns: COLUMNS.map((column) => ({ column, measures: ['distinct_count'] })),
};

describe('profileBuckets: distinct_count', () => {
  it('counts distinct non-NULL values per bucket for booleans, numbers, text, dates and integers', async () => {
    const profiles = await warehouse.profileBuckets(query);
    const byHour = Object.fromEntries(profiles.map((p) => [(p.bucket.getTime() - BASE) / HOUR, p.columns]));
    // Hour 4 holds no rows, so it is absent (the caller fills gaps), not a bucket of zeros.
    expect(Object.keys(byHour)).toEqual(['0', '1', '2', '3', '5']);
    const counts = (hour: number) => Object.fromEntries(COLUMNS.map((column) => [column, byHour[hour]?.[column]?.distinct_count]));
    // 1.0 = 1.00 and -0.0 = 0 as numbers; 'a', 'A' and 'a ' differ as text and varchar;
    // char(3) ignores trailing spaces; NaN equals NaN; '' is a value; NULL never is. `folded` holds
    // the words under a case-insensitive (nondeterministic) collation, where 'a' = 'A'.
    expect(counts(0)).toEqual({ flag: 1, amount: 1, word: 3, tag: 3, code: 2, day: 2, n: 2, folded: 2 });
    expect(counts(1)).toEqual({ flag: 1, amount: 1, word: 1, tag: 1, code: 1, day: 1, n: 0, folded: 1 });
    expect(counts(2)).toEqual({ flag: 2, amount: 2, word: 1, tag: 2, code: 1, day: 2, n: 2, folded: 1 });
    expect(counts(3)).toEqual({ flag: 0, amount: 0, word: 0, tag: 0, code: 0, day: 0, n: 0, folded: 0 });
    expect(counts(5)).toEqual({ flag: 1, amount: 1, word: 1, tag: 1, code: 1, day: 1, n: 1, folded: 1 });
  });

  it('gives the same counts when each column is profiled alone and when top values are asked too', async () => {
    const together = await warehouse.profileBuckets(query);
    for (const column of COLUMNS) {
      const alone = await warehouse.profileBuckets({ ...query, columns: [{ column, measures: ['distinct_count'] }] });
      expect(alone.map((p) => p.columns[column]?.distinct_count)).toEqual(together.map((p) => p.columns[column]?.distinct_count));
      const withTop = await warehouse.profileBuckets({ ...query, columns: [{ column, measures: ['distinct_count'], topK: 2 }] });
      expect(withTop.map((p) => p.columns[column]?.distinct_count)).toEqual(together.map((p) => p.columns[column]?.distinct_count));
    }
  });

  it('reads the table once for all columns', async () => {
    await warehouse.listTables({ schemas: ['shop'] });
    statements.length = 0;
    await warehouse.profileBuckets(query);
    expect(statements.filter((sql) => sql.includes('"shop"."mixed"'))).toHaveLength(1);
  });
});
