import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError } from '../../src/errors.ts';
import { migrate, migrationLockKey } from '../../src/store/migrate.ts';
import { readMigrationFiles } from '../../src/store/migration-files.ts';
import { quoteIdentifier } from '../../src/warehouse/quote.ts';
import { testLogger } from '../helpers/logger.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import { runNodeScript } from '../helpers/run-node.ts';

const MIGRATE_PROCESS = fileURLToPath(new URL('../fixtures/store/migrate-process.ts', import.meta.url));
const logger = testLogger();

describe('migrate', () => {
  let database: TestDatabase;
  let migrationsDir: string;

  beforeEach(async () => {
    database = await createBlankDatabase();
    migrationsDir = await mkdtemp(path.join(tmpdir(), 'pipewarden-migrations-'));
  });

  afterEach(async () => {
    await database.drop();
    await rm(migrationsDir, { recursive: true, force: true });
  });

  async function writeMigration(fileName: string, sql: string): Promise<void> {
    await writeFile(path.join(migrationsDir, fileName), sql);
  }

  async function appliedVersions(schema = 'pipewarden'): Promise<number[]> {
    const result = await database.pool().query<{ version: number }>(`select version from ${quoteIdentifier(schema)}.schema_migrations order by version`);
    return result.rows.map((row) => row.version);
  }

  it('applies the shipped migrations once, then reports up to date', async () => {
    const shipped = await readMigrationFiles();
    const first = await migrate(database.pool(), { schema: 'pipewarden', logger });
    expect(first.applied[0]).toBe('0001_initial');
    expect(first.applied).toHaveLength(shipped.length);
    expect(first.current).toBe(shipped.at(-1)?.version);

    const second = await migrate(database.pool(), { schema: 'pipewarden', logger });
    expect(second).toEqual({ applied: [], current: first.current });
    const tables = await database.pool().query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'pipewarden' order by table_name`,
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(['findings', 'leases', 'observations', 'schema_migrations']));
  });

  it('applies each migration exactly once when two processes migrate at the same moment', async () => {
    // The sleep holds the first migrator inside the lock, so the second surely has to wait.
    await writeMigration('0001_first.sql', 'create table first_table (id int); select pg_sleep(0.5);');
    await writeMigration('0002_second.sql', 'create table second_table (id int);');
    const runs = await Promise.all([0, 1].map(() => runNodeScript(MIGRATE_PROCESS, [database.url, 'pipewarden', migrationsDir])));

    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
    const results = runs.map((run) => JSON.parse(run.stdout) as { applied: string[]; current: number });
    expect(results.flatMap((result) => result.applied).sort()).toEqual(['0001_first', '0002_second']);
    expect(results.map((result) => result.current)).toEqual([2, 2]);
    expect(await appliedVersions()).toEqual([1, 2]);
  });

  it('refuses a database that is ahead of the migration files', async () => {
    await writeMigration('0001_first.sql', 'create table first_table (id int);');
    await migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir });
    await database.pool().query(`insert into pipewarden.schema_migrations (version, name, checksum) values (7, 'future', 'x')`);

    const error = await migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ code: 'state_ahead' });
    expect((error as Error).message).toContain('at version 7 but this pipewarden knows up to 1: upgrade pipewarden');
  });

  it('refuses when an applied migration file was edited afterwards', async () => {
    await writeMigration('0001_first.sql', 'create table first_table (id int);');
    await migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir });
    await writeMigration('0001_first.sql', 'create table first_table (id bigint);');
    await writeMigration('0002_second.sql', 'create table second_table (id int);');

    await expect(migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir })).rejects.toMatchObject({
      code: 'state_migration_changed',
      message: expect.stringContaining('0001_first.sql was changed after it was applied'),
    });
    expect(await appliedVersions()).toEqual([1]);
  });

  it('rolls a failing migration back entirely and keeps the ones before it', async () => {
    await writeMigration('0001_first.sql', 'create table first_table (id int);');
    await writeMigration('0002_broken.sql', 'create table half_done (id int);\ncreate tabel oops (id int);');

    await expect(migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir })).rejects.toMatchObject({
      code: 'state_migration_failed',
      message: expect.stringContaining('0002_broken.sql failed and was rolled back'),
    });
    expect(await appliedVersions()).toEqual([1]);
    const halfDone = await database.pool().query(`select to_regclass('pipewarden.half_done') as found`);
    expect(halfDone.rows[0]).toEqual({ found: null });
  });

  it('puts every object in the configured schema, however it is spelled', async () => {
    const schema = 'team "state"';
    await writeMigration('0001_first.sql', 'create table first_table (id int);');
    await migrate(database.pool(), { schema, logger, migrationsDir });

    expect(await appliedVersions(schema)).toEqual([1]);
    const found = await database.pool().query(`select to_regclass($1) as found`, [`${quoteIdentifier(schema)}.first_table`]);
    expect(found.rows[0]?.found).not.toBeNull();
    const strays = await database.pool().query(`select to_regclass('public.first_table') as found`);
    expect(strays.rows[0]).toEqual({ found: null });
  });

  it('rejects badly named migration files', async () => {
    await writeMigration('1_first.sql', 'select 1;');
    await expect(migrate(database.pool(), { schema: 'pipewarden', logger, migrationsDir })).rejects.toMatchObject({ code: 'state_migration_invalid' });
  });
});

describe('migrate while another holds the lock', () => {
  it('waits for the other migrator, then finds nothing left to do', async () => {
    const database = await createBlankDatabase();
    try {
      const holder = await database.pool().connect();
      await holder.query('select pg_advisory_lock($1::bigint)', [migrationLockKey('pipewarden')]);
      let finished = false;
      const waiting = migrate(database.pool(), { schema: 'pipewarden', logger }).then((result) => {
        finished = true;
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(finished).toBe(false);
      await holder.query('select pg_advisory_unlock($1::bigint)', [migrationLockKey('pipewarden')]);
      holder.release();
      expect((await waiting).applied[0]).toBe('0001_initial');
    } finally {
      await database.drop();
    }
  });
});
