// These tests start embedded servers of their own (not the shared test server), in one temp
// folder, so they exercise initdb, restart, crash recovery and the state database opener.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateConfig } from '../../src/config/schema.ts';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { openStateDatabase } from '../../src/store/state-database.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { runNodeScript } from '../helpers/run-node.ts';

const EMBEDDED_PROCESS = fileURLToPath(new URL('../fixtures/store/embedded-process.ts', import.meta.url));
const EXIT_CODE_PROCESS = fileURLToPath(new URL('../fixtures/store/exit-code-process.ts', import.meta.url));
const logger = testLogger();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('embedded PostgreSQL', () => {
  let parent: string;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), 'pipewarden-embedded-'));
    await chmod(parent, 0o755);
    dir = path.join(parent, 'state');
    port = await freePort();
  });

  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('keeps data and credentials across a restart', async () => {
    const first = await startEmbeddedPostgres({ dir, port, logger });
    try {
      expect(await first.createDatabase('pipewarden')).toBe(true);
      await query(first.url('pipewarden'), `create table kept (note text); insert into kept values ('before restart')`);
    } finally {
      await first.stop();
    }
    const credentials = await stat(path.join(dir, 'credentials.json'));
    expect(credentials.mode & 0o777).toBe(0o600);
    const password = JSON.parse(await readFile(path.join(dir, 'credentials.json'), 'utf8')) as { password: string };
    expect(password.password.length).toBeGreaterThanOrEqual(32);

    const second = await startEmbeddedPostgres({ dir, port, logger });
    try {
      expect(second.url()).toBe(first.url());
      expect(await second.createDatabase('pipewarden')).toBe(false);
      expect(await query(second.url('pipewarden'), 'select note from kept')).toEqual([{ note: 'before restart' }]);
      const listen = await query<{ listen_addresses: string }>(second.url(), 'show listen_addresses');
      expect(listen).toEqual([{ listen_addresses: '127.0.0.1' }]);
    } finally {
      await second.stop();
    }
  });

  it('shares the server of a running pipewarden, and adopts it once that one is killed', async () => {
    const child = spawn(process.execPath, [EMBEDDED_PROCESS, dir, String(port), 'hang'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    expect(chunk.toString()).toContain('ready');
    const postmasterPid = Number((await readFile(path.join(dir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);

    const shared = await startEmbeddedPostgres({ dir, port, logger });
    expect(shared.owned).toBe(false);
    expect(await query(shared.url('pipewarden'), 'select note from kept')).toEqual([{ note: 'before restart' }]);
    await shared.stop();
    expect(isAlive(postmasterPid)).toBe(true);

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(isAlive(postmasterPid)).toBe(true);
    const adopted = await startEmbeddedPostgres({ dir, port, logger });
    expect(adopted.owned).toBe(true);
    expect(await query(adopted.url('pipewarden'), 'select note from kept')).toEqual([{ note: 'before restart' }]);
    await adopted.stop();
    expect(isAlive(postmasterPid)).toBe(false);
  });

  it('stops the server when its process exits without stopping it', async () => {
    const run = await runNodeScript(EMBEDDED_PROCESS, [dir, String(port), 'exit']);
    expect(run, run.stderr).toMatchObject({ code: 7, stdout: 'ready\n' });
    const postmasterPid = Number((await readFile(path.join(dir, 'pgdata', 'postmaster.pid'), 'utf8').catch(() => '0')).split('\n')[0]);
    for (let waited = 0; postmasterPid > 0 && isAlive(postmasterPid) && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(postmasterPid === 0 || !isAlive(postmasterPid)).toBe(true);
    expect(await isPortFree(port)).toBe(true);
  });

  it('leaves the exit code alone: the exit hooks of the package are removed', async () => {
    const run = await runNodeScript(EXIT_CODE_PROCESS, []);
    expect(run, run.stderr).toMatchObject({ code: 3 });
  });

  it('says which setting to change when the port is taken by another program', async () => {
    const blocker = createServer();
    const blockedPort = await freePort();
    await new Promise<void>((resolve) => blocker.listen(blockedPort, '127.0.0.1', resolve));
    try {
      await expect(startEmbeddedPostgres({ dir, port: blockedPort, logger })).rejects.toMatchObject({
        code: 'state_port_in_use',
        message: expect.stringContaining(`port ${blockedPort} on 127.0.0.1 is already used by another program. Set state.embedded.port`),
      });
    } finally {
      blocker.close();
    }
  });

  it('opens the state database on the embedded server with search_path on the schema', async () => {
    const config: StateConfig = { schema: 'pipewarden', embedded: { dir, port } };
    const state = await openStateDatabase(config, logger);
    try {
      expect(state.location).toBe(`127.0.0.1:${port}/pipewarden`);
      const [row] = (await state.pool.query<{ search_path: string; application_name: string }>(
        `select current_setting('search_path') as search_path, current_setting('application_name') as application_name`,
      )).rows;
      expect(row).toEqual({ search_path: '"pipewarden",public', application_name: 'pipewarden' });
    } finally {
      await state.close();
    }
    await expect(query(`postgres://x:y@127.0.0.1:${port}/postgres`, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reports an unreachable state.url with its host and port', async () => {
    const closedPort = await freePort();
    const config: StateConfig = { url: `postgres://pw:secret@127.0.0.1:${closedPort}/state`, schema: 'pipewarden', embedded: { dir, port } };
    const error = await openStateDatabase(config, logger).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'state_unreachable' });
    expect((error as Error).message).toContain(`Cannot connect to the state database at 127.0.0.1:${closedPort}/state`);
    expect((error as Error).message).not.toContain('secret');
  });
});
