// Databases for tests, on the one embedded PostgreSQL that test/global-setup.ts starts.
// createTestDatabase() clones the migrated template (schema `pipewarden` with every migration);
// createBlankDatabase() is empty (for warehouse fixtures and migration tests). Each test file
// makes its own and drops it in afterAll, so files run in parallel without seeing each other.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { quoteIdentifier } from '../../src/warehouse/quote.ts';
import type { TestPostgresInfo } from '../global-setup.ts';

export interface TestDatabase {
  name: string;
  url: string;
  /** The schema holding pipewarden's tables (`pipewarden`; empty databases have none yet). */
  schema: string;
  /** A pool on this database, made on first call and closed by drop(); search_path = schema. */
  pool(): pg.Pool;
  /** Closes the pool and drops the database, even with connections still open. */
  drop(): Promise<void>;
}

const CLONE_ATTEMPTS = 20;
const DROP_ATTEMPTS = 20;

function info(): TestPostgresInfo {
  return inject('testPostgres');
}

/** Connection URL of the test server; the admin database `postgres` unless one is named. */
export function embeddedServerUrl(database = 'postgres'): string {
  return `${info().baseUrl}/${encodeURIComponent(database)}`;
}

/** A fresh database with every migration applied, cloned from the template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { templateDatabase, schema } = info();
  const name = uniqueName('pw_test');
  await withAdminClient(async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`create database ${quoteIdentifier(name)} template ${quoteIdentifier(templateDatabase)}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent clone; wait and retry.
        if ((error as { code?: string }).code !== '55006' || attempt >= CLONE_ATTEMPTS) throw error;
        await sleep(50 + Math.random() * 100);
      }
    }
  });
  return testDatabase(name, schema);
}

/** An empty database (no pipewarden schema), for warehouse fixtures and migration tests. */
export async function createBlankDatabase(): Promise<TestDatabase> {
  const name = uniqueName('pw_blank');
  await withAdminClient((client) => client.query(`create database ${quoteIdentifier(name)} template template0`));
  return testDatabase(name, info().schema);
}

function testDatabase(name: string, schema: string): TestDatabase {
  const url = embeddedServerUrl(name);
  let pool: pg.Pool | undefined;
  return {
    name,
    url,
    schema,
    pool() {
      if (pool === undefined) {
        pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${quoteIdentifier(schema)},public` });
        // A connection still closing when drop() terminates it reports an error nobody awaits.
        pool.on('connect', (client) => client.on('error', () => undefined));
        pool.on('error', () => undefined);
      }
      return pool;
    },
    async drop() {
      await pool?.end();
      pool = undefined;
      await withAdminClient((client) => dropDatabase(client, name));
    },
  };
}

/**
 * pool.end() resolves before the server has seen every connection go, so a plain DROP may find
 * the database still in use for a moment; FORCE is the last resort for connections a test leaked.
 */
async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; attempt <= DROP_ATTEMPTS; attempt++) {
    try {
      await client.query(`drop database if exists ${quoteIdentifier(name)}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006') throw error;
      await sleep(50);
    }
  }
  await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: embeddedServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
