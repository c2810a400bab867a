// How every read reaches a Postgres warehouse: one pooled client, one read-only transaction with
// its own statement timeout, always ended and the client always given back. Watching someone's
// production database must never write to it, hold locks, or leave a session open in a transaction.

import type pg from 'pg';
import type { Logger } from 'pino';
import { loggableError } from './postgres-errors.ts';

/** The only way adapter SQL reaches the server, so every statement is counted and timed out. */
export interface StatementClient {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

export interface ReadSessionSettings {
  statementTimeoutMs: number;
  logger: Logger;
  /** Called with every statement sent, transaction control included (tests count them). */
  onStatement?: ((sql: string) => void) | undefined;
}

/**
 * Runs `work` inside `BEGIN READ ONLY … COMMIT` with statement, lock and idle timeouts and
 * `TimeZone = UTC` scoped to the transaction (set_config(…, true) is SET LOCAL that accepts
 * parameters).
 * UTC matters: dates and zone-less timestamps are read as UTC so buckets are the same on
 * every server whatever its configured zone.
 */
export async function withReadOnlyTransaction<T>(
  pool: pg.Pool,
  settings: ReadSessionSettings,
  work: (client: StatementClient) => Promise<T>,
): Promise<T> {
  const connection = await pool.connect();
  // A checked-out client has no pool listener; without this an unexpected disconnect would be
  // an unhandled 'error' event and take the whole daemon down. The failing query rejects anyway.
  const onClientError = (error: Error) => settings.logger.warn({ error: loggableError(error) }, 'warehouse connection failed during a read');
  connection.on('error', onClientError);
  const client = countingClient(connection, settings.onStatement);
  let healthy = true;
  try {
    await client.query('BEGIN READ ONLY');
    await applyTransactionSettings(client, settings.statementTimeoutMs);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    healthy = await rollbackQuietly(client, settings.logger);
    throw error;
  } finally {
    connection.removeListener('error', onClientError);
    // A client whose rollback failed is in an unknown state: destroy it rather than reuse it.
    connection.release(healthy ? undefined : true);
  }
}

// Waiting in a lock queue behind someone's DDL helps nobody: give up early (at most half the
// statement's budget) and try next time.
const LOCK_TIMEOUT_MS = 5_000;
// Only reached if this process stalls mid-transaction; the server then ends the session for us.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

async function applyTransactionSettings(client: StatementClient, statementTimeoutMs: number): Promise<void> {
  const statementTimeout = Math.max(1, Math.round(statementTimeoutMs));
  await client.query(
    `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
      set_config('idle_in_transaction_session_timeout', $3, true), set_config('TimeZone', 'UTC', true)`,
    [String(statementTimeout), String(Math.max(1, Math.min(LOCK_TIMEOUT_MS, Math.round(statementTimeout / 2)))), String(IDLE_IN_TRANSACTION_TIMEOUT_MS)],
  );
}

function countingClient(connection: pg.PoolClient, onStatement: ((sql: string) => void) | undefined): StatementClient {
  return {
    query<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) {
      onStatement?.(sql);
      return connection.query<R>(sql, params as unknown[] | undefined);
    },
  };
}

async function rollbackQuietly(client: StatementClient, logger: Logger): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch (error) {
    logger.debug({ error: loggableError(error) }, 'rollback after a failed warehouse read failed; discarding the connection');
    return false;
  }
}
