// Starts ONE embedded PostgreSQL for the whole test run and migrates a template database that
// each test file clones (CREATE DATABASE … TEMPLATE is a file copy: far faster than migrating).

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrate } from '../src/store/migrate.ts';
import { quoteIdentifier } from '../src/warehouse/quote.ts';
import { freePort } from './helpers/free-port.ts';
import { testLogger } from './helpers/logger.ts';

export interface TestPostgresInfo {
  /** Admin URL without a database name suffix: `<base>/<database>`. */
  baseUrl: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Database with every migration applied in schema `pipewarden`; connections disallowed. */
  templateDatabase: string;
  schema: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testPostgres: TestPostgresInfo;
  }
}

const TEMPLATE_DATABASE = 'pipewarden_template';
const SCHEMA = 'pipewarden';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = testLogger();
  const dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-test-'));
  // The server runs as the `postgres` OS user when tests run as root; mkdtemp makes 0700.
  await chmod(dir, 0o755);
  const port = await freePort();
  // Durability is worthless for throwaway test data and costs most of the time on small disks.
  const server = await startEmbeddedPostgres({
    dir,
    port,
    logger,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  try {
    await server.createDatabase(TEMPLATE_DATABASE);
    const pool = new pg.Pool({ connectionString: server.url(TEMPLATE_DATABASE), max: 1 });
    try {
      await migrate(pool, { schema: SCHEMA, logger });
    } finally {
      await pool.end();
    }
    await sealTemplate(server.url(), TEMPLATE_DATABASE);
  } catch (error) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const url = new URL(server.url());
  project.provide('testPostgres', {
    baseUrl: server.url('').replace(/\/$/, ''),
    host: url.hostname,
    port,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    templateDatabase: TEMPLATE_DATABASE,
    schema: SCHEMA,
  });
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

/** Clones fail while anyone is connected to the template, so nobody may connect to it. */
async function sealTemplate(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`alter database ${quoteIdentifier(database)} with is_template true allow_connections false`);
  } finally {
    await client.end();
  }
}
