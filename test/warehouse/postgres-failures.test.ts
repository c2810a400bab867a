// How the adapter fails: slow statements, writes, unreachable servers, bad passwords and
// connections dropped under it. Each must become a typed WarehouseError, quickly, and the
// process and the pool must survive it.

import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/errors.ts';
import { redactUrl, toWarehouseError } from '../../src/warehouse/postgres-errors.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import { createReadPool, withReadSession } from '../../src/warehouse/postgres-session.ts';
import { quoteIdentifier } from '../../src/warehouse/quote.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse, rejectionOf, warehouseConfig } from './warehouse-fixtures.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query(`
    CREATE SCHEMA shop;
    CREATE TABLE shop.audit (n int);
    CREATE VIEW shop.slow AS
      SELECT '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 minute' AS at
      FROM generate_series(1, 10) g WHERE pg_sleep(0.2) IS NOT NULL;
    CREATE VIEW shop.pause AS SELECT '2024-01-01T00:00:00Z'::timestamptz AS at WHERE pg_sleep(0.25) IS NOT NULL;
    CREATE FUNCTION shop.sneaky() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO shop.audit VALUES (1) RETURNING 1 $$;
    CREATE VIEW shop.sneaky_view AS SELECT '2024-01-01T00:00:00Z'::timestamptz AS at, shop.sneaky() AS n;`);
});

afterAll(async () => {
  await database?.drop();
});

async function openTransactions(): Promise<number> {
  const result = await database.pool().query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pipewarden' AND datname = $1 AND state LIKE 'idle in transaction%'",
    [database.name],
  );
  return result.rows[0]?.n ?? -1;
}

describe('statement timeout', () => {
  it('cancels a slow statement as warehouse_timeout and leaves the pool usable', async () => {
    const { warehouse } = recordingWarehouse(database.url, { statement_timeout: 150 });
    try {
      const started = Date.now();
      const error = await rejectionOf(
        warehouse.profileBuckets({ table: { schema: 'shop', name: 'slow' }, timeColumn: 'at', bucketMs: 3_600_000, from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-02T00:00:00Z') }),
      );
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error.code).toBe('warehouse_timeout');
      expect(error.message).toContain('"shop"."slow"');
      expect(error.message).toContain('warehouses.analytics.statement_timeout');
      await warehouse.ping();
      expect(await openTransactions()).toBe(0);
    } finally {
      await warehouse.close();
    }
  });
});

describe('lock waits', () => {
  it('gives up on a table locked by someone else instead of queueing behind the lock', async () => {
    await database.pool().query('CREATE TABLE IF NOT EXISTS shop.loading (at timestamptz)');
    const holder = await database.pool().connect();
    const { warehouse } = recordingWarehouse(database.url, { statement_timeout: 2_000 });
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE shop.loading IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const error = await rejectionOf(warehouse.maxTimestamp({ schema: 'shop', name: 'loading' }, 'at'));
      // lock_timeout is half the statement budget, so the lock wait ends first and says so.
      expect(Date.now() - started).toBeLessThan(1_800);
      expect(error.code).toBe('warehouse_timeout');
      expect((error.cause as { code?: string }).code).toBe('55P03');
      expect(error.message).toMatch(/waiting for a lock/);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await warehouse.close();
    }
  });
});

describe('concurrency', () => {
  it('queues reads beyond max_connections instead of failing them as unreachable', async () => {
    // Three 250 ms reads on one connection wait ~500 ms for their turn, longer than connect_timeout.
    const { warehouse } = recordingWarehouse(database.url, { max_connections: 1, connect_timeout: 300 });
    try {
      const read = () =>
        warehouse.profileBuckets({ table: { schema: 'shop', name: 'pause' }, timeColumn: 'at', bucketMs: 3_600_000, from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-02T00:00:00Z') });
      const results = await Promise.all([read(), read(), read()]);
      expect(results.map((profiles) => profiles.map((p) => p.rowCount))).toEqual([[1], [1], [1]]);
    } finally {
      await warehouse.close();
    }
  });
});

function readPool(url: string, statementTimeoutMs = 5_000): pg.Pool {
  return createReadPool({ url, maxConnections: 1, statementTimeoutMs, connectTimeoutMs: 5_000, logger: testLogger() });
}

const session = { logger: testLogger() };

async function backendPid(pool: pg.Pool): Promise<number> {
  return withReadSession(pool, session, async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
}

describe('read-only sessions', () => {
  it('refuses a write sent through the read helper, and keeps the connection the server answered on', async () => {
    const pool = readPool(database.url);
    try {
      const pid = await backendPid(pool);
      const error = await rejectionOf(withReadSession(pool, session, (client) => client.query('INSERT INTO shop.audit VALUES (1)')));
      expect(error.code).toBe('25006');
      // An ordinary error leaves the connection idle and in sync: returned, not reconnected.
      expect(pool.totalCount).toBe(1);
      expect(await backendPid(pool)).toBe(pid);
      expect(await openTransactions()).toBe(0);
      expect((await database.pool().query('SELECT * FROM shop.audit')).rowCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('keeps read-only, the timeouts and UTC over database defaults and over the URL, keeping the URL\'s other options', async () => {
    const name = quoteIdentifier(database.name);
    await database.pool().query(`ALTER DATABASE ${name} SET TimeZone = 'Asia/Kathmandu'`);
    const url = new URL(database.url);
    url.searchParams.set('options', '-c default_transaction_read_only=off -c TimeZone=America/Chicago -c search_path=shop');
    url.searchParams.set('statement_timeout', '0');
    url.searchParams.set('lock_timeout', '0');
    const pool = readPool(url.toString(), 3_000);
    try {
      const settings = await withReadSession(pool, session, async (client) => {
        const result = await client.query<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings WHERE name IN ('default_transaction_read_only', 'transaction_read_only',
            'TimeZone', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'search_path') ORDER BY name`,
        );
        return Object.fromEntries(result.rows.map((row) => [row.name, row.setting]));
      });
      expect(settings).toEqual({
        default_transaction_read_only: 'on',
        idle_in_transaction_session_timeout: '60000',
        lock_timeout: '1500',
        search_path: 'shop',
        statement_timeout: '3000',
        TimeZone: 'UTC',
        transaction_read_only: 'on',
      });
      const error = await rejectionOf(withReadSession(pool, session, (client) => client.query('INSERT INTO audit VALUES (1)')));
      expect(error.code).toBe('25006');
    } finally {
      await pool.end();
      await database.pool().query(`ALTER DATABASE ${name} RESET TimeZone`);
    }
  });

  it('destroys a connection that failed other than by an ordinary error, and reads on with a new one', async () => {
    const pool = readPool(database.url);
    try {
      const pid = await backendPid(pool);
      const read = rejectionOf(withReadSession(pool, session, (client) => client.query('SELECT pg_sleep(5)')));
      await sleep(200);
      await database.pool().query('SELECT pg_terminate_backend($1)', [pid]);
      expect((await read).code).toBe('57P01');
      expect(pool.totalCount).toBe(0);
      expect(await backendPid(pool)).not.toBe(pid);
    } finally {
      await pool.end();
    }
  });

  it('refuses a write hidden in a view the profiler reads', async () => {
    const { warehouse } = recordingWarehouse(database.url);
    try {
      const error = await rejectionOf(
        warehouse.profileBuckets({ table: { schema: 'shop', name: 'sneaky_view' }, timeColumn: 'at', bucketMs: 3_600_000, from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-02T00:00:00Z') }),
      );
      expect(error.code).toBe('warehouse_query');
      expect((error.cause as { code?: string }).code).toBe('25006');
      const audit = await database.pool().query('SELECT * FROM shop.audit');
      expect(audit.rowCount).toBe(0);
    } finally {
      await warehouse.close();
    }
  });
});

describe('unreachable and refused warehouses', () => {
  it('fails fast with warehouse_unreachable on a closed port, without leaking the password', async () => {
    const port = await freePort();
    const { warehouse } = recordingWarehouse(`postgres://reader:s3cret-pw@127.0.0.1:${port}/analytics`, { connect_timeout: 2_000 });
    try {
      const started = Date.now();
      const listing = await rejectionOf(warehouse.listTables());
      const ping = await rejectionOf(warehouse.ping());
      expect(Date.now() - started).toBeLessThan(2_000);
      for (const error of [listing, ping]) {
        expect(error).toBeInstanceOf(WarehouseError);
        expect(error.code).toBe('warehouse_unreachable');
        expect(error.message).toContain('"analytics"');
        expect(error.message).toContain(`127.0.0.1:${port}`);
        expect(error.message).not.toContain('s3cret-pw');
      }
    } finally {
      await warehouse.close();
    }
  });

  it('gives up on a server that accepts but never answers after connect_timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { warehouse } = recordingWarehouse(`postgres://reader:pw@127.0.0.1:${port}/analytics`, { connect_timeout: 300 });
    try {
      const started = Date.now();
      const error = await rejectionOf(warehouse.ping());
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error.code).toBe('warehouse_unreachable');
    } finally {
      await warehouse.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports a wrong password as warehouse_auth', async () => {
    const url = new URL(database.url);
    url.password = 'definitely-wrong';
    const { warehouse } = recordingWarehouse(url.toString());
    try {
      const error = await rejectionOf(warehouse.listTables());
      expect(error.code).toBe('warehouse_auth');
      expect(error.message).toContain('warehouses.analytics.url');
      expect(error.message).not.toContain('definitely-wrong');
    } finally {
      await warehouse.close();
    }
  });

  it('survives an idle connection being killed under it, and logs it without the password', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const warehouse = createPostgresWarehouse('analytics', warehouseConfig(database.url), pino({ level: 'warn' }, sink));
    try {
      await warehouse.ping();
      const killed = await database.pool().query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pipewarden' AND datname = $1 AND pid <> pg_backend_pid()",
        [database.name],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      // Give the pool time to see the disconnect; an unhandled 'error' event would kill this worker.
      await sleep(200);
      await warehouse.ping();
      expect(lines.join('')).toContain('idle warehouse connection failed');
      expect(lines.join('')).not.toContain(decodeURIComponent(new URL(database.url).password));
    } finally {
      await warehouse.close();
    }
  });
});

describe('error translation', () => {
  const context = { warehouse: 'analytics', redactedUrl: 'postgres://reader:***@db:5432/analytics' };

  it('maps SQLSTATEs and network failures to stable codes', () => {
    const code = (error: unknown) => toWarehouseError(error, context).code;
    expect(code(Object.assign(new Error('x'), { code: '28000' }))).toBe('warehouse_auth');
    expect(code(Object.assign(new Error('x'), { code: '42P01' }))).toBe('warehouse_missing_object');
    expect(code(Object.assign(new Error('x'), { code: '42703' }))).toBe('warehouse_missing_object');
    expect(code(Object.assign(new Error('x'), { code: '57014' }))).toBe('warehouse_timeout');
    expect(code(Object.assign(new Error('x'), { code: '22012' }))).toBe('warehouse_query');
    expect(code(Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }))).toBe('warehouse_unreachable');
    expect(code(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }))).toBe('warehouse_unreachable');
    expect(code(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]))).toBe('warehouse_unreachable');
    expect(code(new Error('timeout exceeded when trying to connect'))).toBe('warehouse_unreachable');
    expect(code(new Error('Query read timeout'))).toBe('warehouse_timeout');
  });

  it('redacts passwords from URLs', () => {
    expect(redactUrl('postgres://reader:p%40ss@db.internal:5432/analytics?sslmode=require')).toBe('postgres://reader:***@db.internal:5432/analytics?sslmode=require');
    expect(redactUrl('postgres://db.internal/analytics')).toBe('postgres://db.internal/analytics');
    expect(redactUrl('not a url with secret')).not.toContain('secret');
  });
});
