// Opens pipewarden's state database: the configured `state.url`, or else the embedded
// PostgreSQL under `state.embedded.dir` with a `pipewarden` database in it. Callers get one pool
// whose connections already have search_path on the state schema, so query modules name tables
// without a schema.

import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { StateConfig } from '../config/schema.ts';
import { errorMessage, StateError } from '../errors.ts';
import { quoteIdentifier } from '../warehouse/quote.ts';
import type { EmbeddedPostgresHandle } from './embedded-postgres.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export interface StateDatabase {
  pool: pg.Pool;
  /** Connection URL (with credentials: never log it; use `location`). */
  url: string;
  /** `host:port/database`, safe to print. */
  location: string;
  schema: string;
  /** The embedded server, when pipewarden started one. */
  embedded?: EmbeddedPostgresHandle;
  /** Ends the pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

export interface OpenStateDatabaseOptions {
  /** Pool size cap. The daemon's loops share it; a handful is plenty. */
  maxConnections?: number;
  /** Base for a relative `state.embedded.dir` (the config loader already makes it absolute). */
  cwd?: string;
}

export const EMBEDDED_DATABASE = 'pipewarden';
const DEFAULT_MAX_CONNECTIONS = 10;
const CONNECT_TIMEOUT_MS = 10_000;

export async function openStateDatabase(config: StateConfig, logger: Logger, options: OpenStateDatabaseOptions = {}): Promise<StateDatabase> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.url;
  if (url === undefined) {
    const dir = path.resolve(options.cwd ?? process.cwd(), config.embedded.dir);
    embedded = await startEmbeddedPostgres({ dir, port: config.embedded.port, logger });
    try {
      await embedded.createDatabase(EMBEDDED_DATABASE);
    } catch (error) {
      await embedded.stop();
      throw unreachable(describeLocation(embedded.url(EMBEDDED_DATABASE)), error, true);
    }
    url = embedded.url(EMBEDDED_DATABASE);
  }
  const location = describeLocation(url);
  const pool = createStatePool(url, config.schema, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, logger);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw unreachable(location, error, embedded !== undefined);
  }
  logger.info({ state: location, schema: config.schema, embedded: embedded !== undefined }, 'state database open');
  let closing: Promise<void> | undefined;
  return {
    pool,
    url,
    location,
    schema: config.schema,
    embedded,
    close: () =>
      (closing ??= (async () => {
        await pool.end();
        await embedded?.stop();
      })()),
  };
}

export function createStatePool(url: string, schema: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: 'pipewarden',
    // Set at connection start, so no query can run before search_path is right.
    options: `-c search_path=${quoteIdentifier(schema)},public`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server emits here; unhandled it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'state database connection lost'));
  return pool;
}

/** `host:port/database` from a URL, leaving out user and password. */
export function describeLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured state.url (not a valid URL)';
  }
}

function unreachable(location: string, error: unknown, embedded: boolean): StateError {
  const advice = embedded
    ? 'The embedded PostgreSQL started but refused the connection; check the log above, or remove state.embedded.dir to start with an empty state database.'
    : 'Check that the server runs and that state.url (or DATABASE_URL) has the right host, port, user and password; or remove state.url to use the embedded PostgreSQL.';
  return new StateError('state_unreachable', `Cannot connect to the state database at ${location}: ${connectFailure(error)}. ${advice}`, { cause: error });
}

/** Connecting to a name with several addresses fails with an AggregateError whose message is empty. */
function connectFailure(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    const first: unknown = error.errors[0];
    return first === undefined ? String((error as { code?: string }).code ?? 'connection failed') : errorMessage(first);
  }
  return errorMessage(error) || 'connection failed';
}
