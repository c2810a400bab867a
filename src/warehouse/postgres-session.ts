// How every read reaches a Postgres warehouse. Watching someone's production database must never
// write to it, hold locks, or leave a session open in a transaction. The settings that guarantee
// it travel in each connection's startup packet, so they are in force from the session's first
// statement and a read is just its statement: no BEGIN, SET or COMMIT round trips around it (a
// sweep of 10,000 tables is one statement). The server enforces them:
// - default_transaction_read_only = on: every statement runs in a read-only transaction, so a
//   write (even one hidden in a view's function) fails with 25006;
// - statement_timeout, and lock_timeout (at most half of it) so a read queued behind someone's
//   DDL gives up early instead of holding up everything queued behind it;
// - idle_in_transaction_session_timeout, only reached if something ever opened a transaction;
// - TimeZone = UTC, so dates and zone-less timestamps bucket the same on every server.
// Startup values outrank the role's and database's defaults, and the caller's URL cannot weaken
// them (its own `options` are kept but ours come last and win). A connection pooler that rejects
// startup parameters (PgBouncer unless told to ignore them) fails the connection loudly.

import pg from 'pg';
import type { Logger } from 'pino';
import { loggableError } from './postgres-errors.ts';

/** The only way adapter SQL reaches the server, so every statement is counted. */
export interface StatementClient {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

export interface ReadPoolSettings {
  url: string;
  maxConnections: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  logger: Logger;
}

export interface ReadSessionSettings {
  logger: Logger;
  /** Called with every statement sent (tests and benchmarks count them). */
  onStatement?: ((sql: string) => void) | undefined;
}

// Waiting in a lock queue behind someone's DDL helps nobody: give up early (at most half the
// statement's budget) and try next time.
const LOCK_TIMEOUT_MS = 5_000;
// Reads never open a transaction; should one ever be left open, the server ends the session.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
const IDLE_TIMEOUT_MS = 10_000;
const SESSION_OPTIONS = '-c default_transaction_read_only=on -c TimeZone=UTC';
// URL parameters pg would otherwise let override the settings above.
const OVERRIDDEN_URL_PARAMETERS = ['options', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'];

/** A capped pool whose every connection is read-only, time-limited and in UTC from its start. */
export function createReadPool(settings: ReadPoolSettings): pg.Pool {
  const statementTimeout = Math.max(1, Math.round(settings.statementTimeoutMs));
  const { url, userOptions } = withoutSessionParameters(settings.url);
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.maxConnections,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: statementTimeout,
    lock_timeout: Math.max(1, Math.min(LOCK_TIMEOUT_MS, Math.round(statementTimeout / 2))),
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    // Later -c settings win, so the caller's options cannot turn read-only off.
    options: userOptions ? `${userOptions} ${SESSION_OPTIONS}` : SESSION_OPTIONS,
    // The server cancels at statement_timeout; this client-side limit only catches a network
    // that stopped answering altogether, so it leaves the server room to cancel first.
    query_timeout: statementTimeout + settings.connectTimeoutMs,
    application_name: 'pipewarden',
    keepAlive: true,
    allowExitOnIdle: true,
  });
  // An idle connection dropped by the server or network must be logged, never crash the daemon.
  pool.on('error', (error) => settings.logger.warn({ error: loggableError(error) }, 'idle warehouse connection failed; it will be replaced'));
  return pool;
}

/**
 * pg lets a connection string's parameters override the pool's own settings, so the ones that
 * carry our session settings are taken out of the URL (its `options` are kept, to be merged).
 * A string that is not a URL is passed on untouched; pg reads it the same way either way.
 */
function withoutSessionParameters(connectionString: string): { url: string; userOptions: string | undefined } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { url: connectionString, userOptions: undefined };
  }
  const userOptions = url.searchParams.get('options') ?? undefined;
  if (!OVERRIDDEN_URL_PARAMETERS.some((name) => url.searchParams.has(name))) return { url: connectionString, userOptions };
  for (const name of OVERRIDDEN_URL_PARAMETERS) url.searchParams.delete(name);
  return { url: url.toString(), userOptions };
}

/**
 * Runs `work` on one pooled connection and always gives it back. Each statement is its own
 * read-only transaction (the session settings above); a read that needs several statements to
 * see one snapshot wraps them in inReadOnlySnapshot (the Airflow and SQLMesh readers do). After a failure
 * the connection is reused only when the server answered with an ordinary error (the connection
 * is then idle and in sync); anything else (a network failure, a client-side timeout, a
 * terminated session) destroys it.
 */
export async function withReadSession<T>(pool: pg.Pool, settings: ReadSessionSettings, work: (client: StatementClient) => Promise<T>): Promise<T> {
  const connection = await pool.connect();
  // A checked-out client has no pool listener; without this an unexpected disconnect would be
  // an unhandled 'error' event and take the whole daemon down. The failing query rejects anyway.
  const onClientError = (error: Error) => settings.logger.warn({ error: loggableError(error) }, 'warehouse connection failed during a read');
  connection.on('error', onClientError);
  let reusable = true;
  try {
    return await work(countingClient(connection, settings.onStatement));
  } catch (error) {
    reusable = error instanceof pg.DatabaseError && error.severity === 'ERROR';
    if (!reusable) settings.logger.debug({ error: loggableError(error) }, 'discarding the warehouse connection a read failed on');
    throw error;
  } finally {
    connection.removeListener('error', onClientError);
    connection.release(reusable ? undefined : true);
  }
}

/**
 * Runs `work` inside one REPEATABLE READ READ ONLY transaction on a session's connection, for the
 * reads that need several statements to see one committed state (another tool's state tables
 * changing under us: Airflow's metadata, SQLMesh's intervals). Rolled back when `work` fails.
 */
export async function inReadOnlySnapshot<T>(client: StatementClient, work: () => Promise<T>): Promise<T> {
  await client.query('begin isolation level repeatable read read only');
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

function countingClient(connection: pg.PoolClient, onStatement: ((sql: string) => void) | undefined): StatementClient {
  return {
    query<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) {
      onStatement?.(sql);
      return connection.query<R>(sql, params as unknown[] | undefined);
    },
  };
}
