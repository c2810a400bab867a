// deploy/pipewarden.yaml against the warehouse the postgres service's init scripts make, with
// the environment compose gives pipewarden: the scripts run as the postgres image runs them, the
// read-only role reads and cannot write, and a real `pipewarden check` measures every monitor.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/load-config.ts';
import { createBlankDatabase, createTestDatabase, embeddedServerUrl, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';
import { composeService, pipewardenConfig } from './stack-config.ts';
import { DEPLOY_DIR, hostPathFor, readCompose, REPO_DIR, runProgram, serviceEnvironment } from './stack-files.ts';
import type { ComposeFile } from './stack-files.ts';

let compose: ComposeFile;

beforeAll(async () => {
  compose = await readCompose();
});

/** The init scripts compose mounts, in the order the postgres image runs them. */
async function initScripts(): Promise<string[]> {
  const dir = hostPathFor(composeService(compose, 'postgres'), '/docker-entrypoint-initdb.d');
  if (dir === undefined) throw new Error('compose mounts nothing at /docker-entrypoint-initdb.d for postgres');
  return (await readdir(dir)).sort().map((name) => path.join(dir, name));
}

/**
 * Runs one init script as the postgres image's entrypoint does: `*.sql` through psql, stopping at
 * the first error; `*.sh` executed with POSTGRES_USER, POSTGRES_DB and the service's environment.
 * psql reaches the test server through the PG* variables instead of the image's local socket.
 */
function runInitScript(file: string, database: TestDatabase): Promise<{ code: number; output: string }> {
  const url = new URL(database.url);
  const env = {
    ...serviceEnvironment(composeService(compose, 'postgres')),
    PATH: process.env.PATH,
    PGHOST: url.hostname,
    PGPORT: url.port,
    PGUSER: decodeURIComponent(url.username),
    PGPASSWORD: decodeURIComponent(url.password),
    POSTGRES_USER: decodeURIComponent(url.username),
    POSTGRES_DB: url.pathname.slice(1),
  };
  if (file.endsWith('.sql')) return runProgram('psql', ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '--dbname', env.POSTGRES_DB, '--file', file], { env });
  return runProgram(file, [], { env });
}

const READER_ROLE = 'pipewarden_reader';

describe('deploy/pipewarden.yaml on the warehouse the init scripts make', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let readerUrl: string;

  beforeAll(async () => {
    [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
    // 00-databases.sql only creates the state database, which the test server already has
    // (createTestDatabase); run on the shared test server it would leave a database behind.
    for (const file of (await initScripts()).filter((name) => !name.endsWith('00-databases.sql'))) {
      const result = await runInitScript(file, warehouse);
      if (result.code === 127) throw new Error('psql was not found: install the PostgreSQL client (apt-get install postgresql-client) to run the init scripts');
      if (result.code !== 0) throw new Error(`${path.relative(REPO_DIR, file)} failed as the postgres image would run it:\n${result.output}`);
    }
    // Connect the way compose's WAREHOUSE_URL does: as the read-only role, with its password.
    const composeUrl = new URL(serviceEnvironment(composeService(compose, 'pipewarden')).WAREHOUSE_URL ?? '');
    const url = new URL(warehouse.url);
    url.username = composeUrl.username;
    url.password = composeUrl.password;
    readerUrl = url.toString();
  });
  afterAll(async () => {
    await Promise.all([state?.drop(), warehouse?.drop()]);
    // The role belongs to the whole test server; its grants went with the warehouse database.
    const admin = new pg.Client({ connectionString: embeddedServerUrl() });
    await admin.connect();
    await admin.query(`drop role if exists ${READER_ROLE}`).finally(() => admin.end());
  });

  it('makes a read-only role that can read the tables and not write them', async () => {
    const reader = new pg.Client({ connectionString: readerUrl });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ count: string }>('select count(*) from public.orders');
      expect(Number(rows[0]?.count)).toBeGreaterThan(0);
      await expect(reader.query("insert into public.orders (store_id, amount, status) values (1, 1, 'x')")).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });

  it('passes pipewarden validate with only the environment compose gives it, and not without it', async () => {
    const env = serviceEnvironment(composeService(compose, 'pipewarden'));
    const outcome = await runCliCaptured(['validate', '--config', path.join(DEPLOY_DIR, 'pipewarden.yaml')], { env, cwd: REPO_DIR, now: () => new Date() });
    expect(outcome.code, outcome.stderr).toBe(0);
    const missing = await checkConfigFile(path.join(DEPLOY_DIR, 'pipewarden.yaml'), {});
    expect(missing.problems.map((problem) => problem.path)).toContain('warehouses.warehouse.url');
  });

  it('finds the seeded tables and measures every monitor\'s checks on them with `pipewarden check`, as the read-only role', async () => {
    const env = { ...serviceEnvironment(composeService(compose, 'pipewarden')), DATABASE_URL: state.url, WAREHOUSE_URL: readerUrl };
    const config = await pipewardenConfig(compose, env);
    const outcome = await runCliCaptured(['check', '--json', '--config', path.join(DEPLOY_DIR, 'pipewarden.yaml')], { env, cwd: REPO_DIR, now: () => new Date() });
    expect(outcome.stdout, outcome.stderr).not.toBe('');
    const { findings } = JSON.parse(outcome.stdout) as { findings: { check: string; kind: string; asset: string; status: string; message: string }[] };
    const expected = config.monitors.flatMap((monitor) =>
      [monitor.freshness && 'freshness', monitor.volume && 'volume', monitor.schema && 'schema'].filter(Boolean).flatMap((kind) => monitor.assets.map((asset) => `${String(kind)}:${asset}`)),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(findings.map((finding) => finding.check)).toEqual(expect.arrayContaining(expected));
    expect(findings.filter((finding) => finding.status === 'error').map((finding) => `${finding.check}: ${finding.message}`)).toEqual([]);
  });
});
