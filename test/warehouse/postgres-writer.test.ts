// The write side on a real PostgreSQL: one transaction per piece of work, committed or rolled
// back as a whole; an abort ends the statement on the server, not only on our side; a warehouse
// without write_url fails with what to configure.

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { RunbookError } from '../../src/errors.ts';
import { createWarehouseWriters, WRITER_APPLICATION_NAME } from '../../src/warehouse/postgres-writer.ts';
import type { WarehouseWriters } from '../../src/warehouse/warehouse-writer.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';

let database: TestDatabase;
let writers: WarehouseWriters;

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query('CREATE TABLE public.t (id int)');
  const config = configSchema.parse({
    warehouses: {
      demo: { type: 'postgres', url: database.url, write_url: database.url, statement_timeout: '7s' },
      readonly: { type: 'postgres', url: database.url },
      unreachable: { type: 'postgres', url: database.url, write_url: 'postgres://writer:secret@127.0.0.1:1/none', connect_timeout: '2s' },
    },
  });
  writers = createWarehouseWriters(config, testLogger());
});

afterAll(async () => {
  await writers?.close();
  await database?.drop();
});

async function ids(): Promise<number[]> {
  const result = await database.pool().query<{ id: number }>('SELECT id FROM public.t ORDER BY id');
  return result.rows.map((row) => row.id);
}

const never = () => new AbortController().signal;

describe('createWarehouseWriters', () => {
  it('names the setting to add when a warehouse has no write_url, or is not configured', () => {
    expect(() => writers.writer('readonly')).toThrow(RunbookError);
    expect(() => writers.writer('readonly')).toThrow(/warehouses\.readonly\.write_url/);
    expect(() => writers.writer('nowhere')).toThrow(/No warehouse "nowhere".*warehouses\.nowhere\.write_url/);
    try {
      writers.writer('readonly');
    } catch (error) {
      expect((error as RunbookError).code).toBe('runbook_no_write_url');
    }
  });

  it('commits work that resolves, on a session named for runbooks with the configured timeout', async () => {
    const settings = await writers.writer('demo').transaction(async (client) => {
      await client.query('INSERT INTO public.t VALUES (1)');
      const result = await client.query<{ name: string; timeout: string }>("SELECT current_setting('application_name') AS name, current_setting('statement_timeout') AS timeout");
      return result.rows[0];
    }, never());
    expect(settings).toMatchObject({ name: WRITER_APPLICATION_NAME, timeout: '7s' });
    expect(await ids()).toEqual([1]);
  });

  it('rolls back every statement of work that throws, and hands the error on', async () => {
    const failure = new Error('changed my mind');
    await expect(
      writers.writer('demo').transaction(async (client) => {
        await client.query('INSERT INTO public.t VALUES (2)');
        throw failure;
      }, never()),
    ).rejects.toBe(failure);
    expect(await ids()).toEqual([1]);
    // The connection went back usable: the next transaction works.
    await writers.writer('demo').transaction((client) => client.query('SELECT 1'), never());
  });

  it('on abort mid-statement rolls back, returns promptly and ends the statement on the server', async () => {
    const controller = new AbortController();
    let pid = 0;
    const started = Date.now();
    const running = writers.writer('demo').transaction(async (client: pg.ClientBase) => {
      await client.query('INSERT INTO public.t VALUES (3)');
      pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
      setTimeout(() => controller.abort(new Error('step timeout')), 200);
      await client.query('SELECT pg_sleep(30)');
    }, controller.signal);
    await expect(running).rejects.toMatchObject({ code: 'runbook_write_aborted', message: expect.stringMatching(/step timeout.*rolled back/) });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await ids()).toEqual([1]);
    // Without the server-side cancel the backend would sleep on for 30 s holding its locks; a
    // terminated one exits within moments (the signal is asynchronous, so allow it a second).
    await expect.poll(async () => (await database.pool().query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount, { timeout: 1_000, interval: 20 }).toBe(0);
  });

  it('refuses to start work once the signal has aborted, without connecting', async () => {
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    for (const name of ['demo', 'unreachable']) {
      await expect(
        writers.writer(name).transaction(async () => {
          ran = true;
        }, controller.signal),
      ).rejects.toMatchObject({ code: 'runbook_write_aborted' });
    }
    expect(ran).toBe(false);
  });

  it('says which write_url it could not connect with, password hidden', async () => {
    const attempt = writers.writer('unreachable').transaction(async () => undefined, never());
    await expect(attempt).rejects.toMatchObject({ code: 'runbook_write_unreachable', message: expect.stringContaining('warehouses.unreachable.write_url') });
    await expect(attempt).rejects.not.toThrow(/secret/);
  });

  it('uses at most two connections however many steps write at once', async () => {
    const seen = new Set<number>();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        writers.writer('demo').transaction(async (client) => {
          seen.add((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0);
          await client.query('SELECT pg_sleep(0.05)');
        }, never()),
      ),
    );
    expect(seen.size).toBeLessThanOrEqual(2);
    const sessions = await database.pool().query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", [WRITER_APPLICATION_NAME]);
    expect(sessions.rows[0].n).toBeLessThanOrEqual(2);
  });
});
