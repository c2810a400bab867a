import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipewardenError } from '../../src/errors.ts';
import { qualifiedName, quoteIdentifier } from '../../src/warehouse/quote.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';

const HOSTILE_NAMES = [
  'x"; drop table y; --',
  "Robert'); DROP TABLE students;--",
  '"',
  '""',
  'with space',
  'dotted.name',
  'bestellungen_überfällig',
  '🚀 launch',
  'select',
  'MixedCase',
  '\\',
  '$1',
  'new\nline',
];

describe('quoteIdentifier', () => {
  it('wraps in double quotes and doubles embedded ones', () => {
    expect(quoteIdentifier('orders')).toBe('"orders"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteIdentifier('x"; drop table y; --')).toBe('"x""; drop table y; --"');
    expect(quoteIdentifier('"')).toBe('""""');
  });

  it('rejects NUL bytes and empty names with a typed error', () => {
    expect(() => quoteIdentifier('a\u0000b')).toThrow(PipewardenError);
    expect(() => quoteIdentifier('a\u0000b')).toThrow(/NUL byte/);
    expect(() => quoteIdentifier('')).toThrow(/empty identifier/);
    let caught: unknown;
    try {
      quoteIdentifier('\u0000');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'identifier_invalid' });
  });

  it('qualifies each part on its own so dots stay inside names', () => {
    expect(qualifiedName({ schema: 'public', name: 'orders' })).toBe('"public"."orders"');
    expect(qualifiedName({ schema: 'a.b', name: 'c"d' })).toBe('"a.b"."c""d"');
  });
});

describe('quoteIdentifier against PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createBlankDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('round-trips hostile names exactly', async () => {
    const select = HOSTILE_NAMES.map((name, index) => `${index} AS ${quoteIdentifier(name)}`).join(', ');
    const result = await database.pool().query(`SELECT ${select}`);
    expect(result.fields.map((field) => field.name)).toEqual(HOSTILE_NAMES);
  });

  it('creates and reads back tables with hostile names in a hostile schema', async () => {
    const schema = 'we"ird schema';
    await database.pool().query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    for (const name of HOSTILE_NAMES) {
      await database.pool().query(`CREATE TABLE ${qualifiedName({ schema, name })} (${quoteIdentifier(name)} int)`);
    }
    const result = await database.pool().query<{ relname: string }>(
      'SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY c.oid',
      [schema],
    );
    expect(result.rows.map((row) => row.relname)).toEqual(HOSTILE_NAMES);
  });
});
