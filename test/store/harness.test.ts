import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createBlankDatabase, createTestDatabase } from '../helpers/postgres.ts';

describe('test database harness', () => {
  let migrated: TestDatabase;
  let blank: TestDatabase;

  beforeAll(async () => {
    [migrated, blank] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  });

  afterAll(async () => {
    await Promise.all([migrated.drop(), blank.drop()]);
  });

  it('clones a database with every migration applied and search_path on the schema', async () => {
    const versions = await migrated.pool().query<{ version: number }>('select version from schema_migrations order by version');
    expect(versions.rows.map((row) => row.version)).toContain(1);
    await migrated.pool().query(`insert into observations (asset, metric, bucket, value) values ('a.b.c', 'row_count', now(), 1)`);
    const count = await migrated.pool().query<{ n: string }>('select count(*) as n from observations');
    expect(count.rows[0]?.n).toBe('1');
  });

  it('gives each clone its own data', async () => {
    const other = await createTestDatabase();
    try {
      const count = await other.pool().query<{ n: string }>('select count(*) as n from observations');
      expect(count.rows[0]?.n).toBe('0');
    } finally {
      await other.drop();
    }
  });

  it('makes blank databases without the pipewarden schema', async () => {
    const result = await blank.pool().query(`select 1 from information_schema.schemata where schema_name = 'pipewarden'`);
    expect(result.rowCount).toBe(0);
  });
});
