// Brings the state schema up to date with the numbered migration files. Forward only: there are
// no down migrations, and a database newer than this code is refused rather than guessed at.
// Replicas starting together serialize on an advisory lock, so each migration runs exactly once.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage, StateError } from '../errors.ts';
import { quoteIdentifier } from '../warehouse/quote.ts';
import type { MigrationFile } from './migration-files.ts';
import { readMigrationFiles } from './migration-files.ts';

export interface MigrateOptions {
  schema: string;
  logger: Logger;
  /** Folder of NNNN_name.sql files; defaults to the package's `migrations/`. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Applied by this call, as `NNNN_name`, in order. */
  applied: string[];
  /** Version the database is at afterwards (0 when there are no migrations). */
  current: number;
}

export interface SchemaMigrationRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

export async function migrate(pool: pg.Pool, options: MigrateOptions): Promise<MigrateResult> {
  const files = await readMigrationFiles(options.migrationsDir);
  const logger = options.logger.child({ component: 'migrate', schema: options.schema });
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await lockMigrations(client, options.schema, logger);
    try {
      await createSchema(client, options.schema);
      await createMigrationsTable(client, options.schema);
      const rows = await selectAppliedMigrations(client, options.schema);
      assertCompatible(rows, files);
      const done = new Set(rows.map((row) => row.version));
      const applied: string[] = [];
      for (const file of files.filter((candidate) => !done.has(candidate.version))) {
        await applyMigration(client, options.schema, file);
        applied.push(migrationLabel(file));
        logger.info({ version: file.version, migration: file.name }, 'applied migration');
      }
      const current = Math.max(0, ...rows.map((row) => row.version), ...files.map((file) => file.version));
      return { applied, current };
    } finally {
      await unlockMigrations(client, options.schema).catch((error: unknown) => {
        // A connection that lost its lock state must not go back to the pool.
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    client.release(broken);
  }
}

export function migrationLabel(file: Pick<MigrationFile, 'version' | 'name'>): string {
  return `${String(file.version).padStart(4, '0')}_${file.name}`;
}

/** One fixed 64-bit key per schema, so migrating two schemas in one database never contends. */
export function migrationLockKey(schema: string): string {
  return createHash('sha256').update(`pipewarden:migrate:${schema}`).digest().readBigInt64BE(0).toString();
}

function assertCompatible(rows: readonly SchemaMigrationRow[], files: readonly MigrationFile[]): void {
  const newestKnown = Math.max(0, ...files.map((file) => file.version));
  const newestApplied = Math.max(0, ...rows.map((row) => row.version));
  if (newestApplied > newestKnown) {
    throw new StateError(
      'state_ahead',
      `The state database schema is at version ${newestApplied} but this pipewarden knows up to ${newestKnown}: upgrade pipewarden, or point it at another state database.`,
    );
  }
  const byVersion = new Map(files.map((file) => [file.version, file]));
  for (const row of rows) {
    const file = byVersion.get(row.version);
    if (file === undefined) {
      throw new StateError(
        'state_migration_missing',
        `The state database has migration ${migrationLabel(row)} applied, but this pipewarden has no such file: reinstall pipewarden, or point it at another state database.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new StateError(
        'state_migration_changed',
        `Migration ${file.file} was changed after it was applied to the state database (checksum differs). ` +
          'Applied migrations are never edited: restore the file and put the change in a new, higher-numbered migration.',
      );
    }
  }
}

async function applyMigration(client: pg.PoolClient, schema: string, file: MigrationFile): Promise<void> {
  await client.query('begin');
  try {
    // The files never name the schema: search_path puts their objects where this config says.
    await client.query(`set local search_path to ${quoteIdentifier(schema)}, public`);
    await client.query(file.sql);
    await insertAppliedMigration(client, schema, file);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw new StateError('state_migration_failed', `Migration ${file.file} failed and was rolled back: ${errorMessage(error)}`, { cause: error });
  }
}

async function lockMigrations(client: pg.ClientBase, schema: string, logger: Logger): Promise<void> {
  if (await tryLockMigrations(client, schema)) return;
  // Say why startup pauses: another replica is migrating, and this one waits for it to finish.
  logger.info('another pipewarden is migrating the state database; waiting for it to finish');
  await client.query('select pg_advisory_lock($1::bigint)', [migrationLockKey(schema)]);
}

async function tryLockMigrations(client: pg.ClientBase, schema: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [migrationLockKey(schema)]);
  return result.rows[0]?.locked === true;
}

async function unlockMigrations(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('select pg_advisory_unlock($1::bigint)', [migrationLockKey(schema)]);
}

async function createSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`create schema if not exists ${quoteIdentifier(schema)}`);
}

async function createMigrationsTable(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(
    `create table if not exists ${quoteIdentifier(schema)}.schema_migrations (
       version integer primary key,
       name text not null,
       checksum text not null,
       applied_at timestamptz not null default now()
     )`,
  );
}

async function selectAppliedMigrations(client: pg.ClientBase, schema: string): Promise<SchemaMigrationRow[]> {
  const result = await client.query<SchemaMigrationRow>(
    `select version, name, checksum, applied_at from ${quoteIdentifier(schema)}.schema_migrations order by version`,
  );
  return result.rows;
}

async function insertAppliedMigration(client: pg.ClientBase, schema: string, file: MigrationFile): Promise<void> {
  await client.query(`insert into ${quoteIdentifier(schema)}.schema_migrations (version, name, checksum) values ($1, $2, $3)`, [
    file.version,
    file.name,
    file.checksum,
  ]);
}
