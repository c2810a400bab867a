// The write side of a Postgres warehouse, for runbook `sql`, `publish` and `rollback` steps only.
// One small pool per warehouse on its `write_url`, made the first time a step needs it (most
// deployments never run a write step, and a daemon should not hold write connections it never
// uses). Unlike reads (postgres-session.ts), writes need real transactions, so every piece of
// work runs between BEGIN and COMMIT on one connection.
//
// Aborting (a step's timeout, the run's deadline, shutdown) must not leave a statement running
// on someone's production database holding locks: the connection is destroyed, which rolls the
// transaction back, and the backend is terminated from a second, short-lived connection. Closing
// the socket alone is not enough: a server busy in a statement only notices the client is gone
// when it next writes to it, so until then it keeps its locks.

import pg from 'pg';
import type { Logger } from 'pino';
import type { Config, WarehouseConfig } from '../config/schema.ts';
import { errorMessage, RunbookError } from '../errors.ts';
import { loggableError, redactUrl } from './postgres-errors.ts';
import type { WarehouseWriter, WarehouseWriters } from './warehouse-writer.ts';

// Runbook steps run one or two at a time per warehouse; this is someone's production database.
const MAX_CONNECTIONS = 2;
// A publish takes an ACCESS EXCLUSIVE lock; while it waits for one, every later reader of the
// table queues behind it. Giving up early (the step can retry) keeps dashboards answering.
const LOCK_TIMEOUT_MS = 5_000;
// Our transactions never idle; should the daemon freeze inside one, the server ends it.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
const IDLE_TIMEOUT_MS = 10_000;
export const WRITER_APPLICATION_NAME = 'pipewarden-runbook';

interface WriterTarget {
  name: string;
  warehouse: WarehouseConfig & { write_url: string };
  log: Logger;
}

export function createWarehouseWriters(config: Config, logger: Logger): WarehouseWriters {
  const pools = new Map<string, pg.Pool>();
  const writers = new Map<string, WarehouseWriter>();
  let closed = false;

  function poolFor(target: WriterTarget): pg.Pool {
    let pool = pools.get(target.name);
    if (pool === undefined) {
      pool = createWritePool(target.warehouse, target.log);
      pools.set(target.name, pool);
    }
    return pool;
  }

  return {
    writer(name: string): WarehouseWriter {
      if (closed) throw new RunbookError('runbook_writer_closed', `Warehouse writers are closed; pipewarden is shutting down.`);
      const existing = writers.get(name);
      if (existing) return existing;
      const warehouse = config.warehouses[name];
      if (warehouse === undefined) {
        const known = Object.keys(config.warehouses).join(', ');
        throw new RunbookError(
          'runbook_no_write_url',
          `No warehouse "${name}" is configured (known: ${known}), so there is no warehouses.${name}.write_url to write with; name a configured warehouse in the step, or add this one.`,
        );
      }
      const writeUrl = warehouse.write_url;
      if (writeUrl === undefined) {
        throw new RunbookError(
          'runbook_no_write_url',
          `Warehouse "${name}" has no write_url, so runbook steps cannot write to it; set warehouses.${name}.write_url to a connection URL of a role allowed to make the change.`,
        );
      }
      const target: WriterTarget = { name, warehouse: { ...warehouse, write_url: writeUrl }, log: logger.child({ warehouse: name }) };
      const writer: WarehouseWriter = {
        transaction: (work, signal) => runTransaction(poolFor(target), target, work, signal),
      };
      writers.set(name, writer);
      return writer;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      pools.clear();
    },
  };
}

function connectionSettings(warehouse: WarehouseConfig & { write_url: string }): pg.ClientConfig {
  const statementTimeout = Math.max(1, Math.round(warehouse.statement_timeout));
  return {
    connectionString: warehouse.write_url,
    connectionTimeoutMillis: warehouse.connect_timeout,
    statement_timeout: statementTimeout,
    lock_timeout: Math.max(1, Math.min(LOCK_TIMEOUT_MS, Math.round(statementTimeout / 2))),
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    application_name: WRITER_APPLICATION_NAME,
    keepAlive: true,
  };
}

function createWritePool(warehouse: WarehouseConfig & { write_url: string }, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ ...connectionSettings(warehouse), max: MAX_CONNECTIONS, idleTimeoutMillis: IDLE_TIMEOUT_MS, allowExitOnIdle: true });
  // An idle connection dropped by the server or network must be logged, never crash the daemon.
  pool.on('error', (error) => logger.warn({ error: loggableError(error) }, 'idle warehouse write connection failed; it will be replaced'));
  return pool;
}

// The backend pid of each pooled connection, read once: it is what an abort terminates.
const backendPids = new WeakMap<pg.PoolClient, number>();

async function runTransaction<T>(pool: pg.Pool, target: WriterTarget, work: (client: pg.ClientBase) => Promise<T>, signal: AbortSignal): Promise<T> {
  throwIfAborted(signal, target);
  const client = await connect(pool, target);
  const onClientError = (error: Error) => target.log.warn({ error: loggableError(error) }, 'warehouse write connection failed during a transaction');
  client.on('error', onClientError);
  let released = false;
  const release = (error?: Error) => {
    if (released) return;
    released = true;
    // A discarded connection may still report its end; a reused one must not gather listeners.
    if (error === undefined) client.removeListener('error', onClientError);
    client.release(error);
  };
  let terminated: Promise<void> | undefined;
  const onAbort = () => {
    release(new Error('runbook step aborted'));
    terminated = terminateBackend(target, backendPids.get(client));
  };
  try {
    const pid = backendPids.get(client) ?? (await selectBackendPid(client));
    backendPids.set(client, pid);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    await beginTransaction(client);
    const result = await work(client);
    throwIfAborted(signal, target);
    // Once COMMIT is sent, aborting could only leave us unsure whether it happened: let it finish.
    signal.removeEventListener('abort', onAbort);
    await commitTransaction(client);
    return result;
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    if (terminated !== undefined) {
      await terminated;
      throw abortedError(signal, target, error);
    }
    if (!released) await rollbackOrDiscard(client, release, target.log);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    release();
  }
}

async function connect(pool: pg.Pool, target: WriterTarget): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new RunbookError(
      'runbook_write_unreachable',
      `Cannot connect to warehouse "${target.name}" at ${redactUrl(target.warehouse.write_url)} (${errorMessage(error)}). Check warehouses.${target.name}.write_url and that the database accepts the connection.`,
      { cause: error },
    );
  }
}

async function rollbackOrDiscard(client: pg.PoolClient, release: (error?: Error) => void, log: Logger): Promise<void> {
  try {
    await rollbackTransaction(client);
  } catch (error) {
    // A connection that cannot even roll back is broken; discarding it ends the transaction too.
    log.debug({ error: loggableError(error) }, 'discarding the warehouse write connection a rollback failed on');
    release(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Ends the aborted statement now instead of when the server next writes to the closed socket. */
async function terminateBackend(target: WriterTarget, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const client = new pg.Client(connectionSettings(target.warehouse));
  client.on('error', () => undefined);
  try {
    await client.connect();
    await terminateBackendPid(client, pid);
  } catch (error) {
    target.log.warn({ error: loggableError(error), pid }, 'could not terminate the aborted write session; the server ends it when its statement finishes or times out');
  } finally {
    await client.end().catch(() => undefined);
  }
}

function throwIfAborted(signal: AbortSignal, target: WriterTarget): void {
  if (signal.aborted) throw abortedError(signal, target, undefined);
}

function abortedError(signal: AbortSignal, target: WriterTarget, during: unknown): RunbookError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
  return new RunbookError('runbook_write_aborted', `The write on warehouse "${target.name}" was stopped (${reason}); its transaction was rolled back.`, {
    cause: during ?? signal.reason,
  });
}

async function selectBackendPid(client: pg.ClientBase): Promise<number> {
  const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return (result.rows[0] as { pid: number }).pid;
}

async function terminateBackendPid(client: pg.ClientBase, pid: number): Promise<void> {
  await client.query('SELECT pg_terminate_backend($1)', [pid]);
}

async function beginTransaction(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
}

async function commitTransaction(client: pg.ClientBase): Promise<void> {
  await client.query('COMMIT');
}

async function rollbackTransaction(client: pg.ClientBase): Promise<void> {
  await client.query('ROLLBACK');
}
