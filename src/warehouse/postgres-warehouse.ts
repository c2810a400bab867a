// The Postgres adapter of the Warehouse port. Small on purpose: the SQL lives in
// postgres-catalog.ts and postgres-profile.ts, the session discipline (read-only, timeouts, UTC)
// in postgres-session.ts and the error translation in postgres-errors.ts; this file wires them
// to one capped pool.

import type { Logger } from 'pino';
import type { WarehouseConfig } from '../config/schema.ts';
import { WarehouseError } from '../errors.ts';
import { createConcurrencyLimit } from './concurrency-limit.ts';
import { readCatalog, selectTableColumns, tableKey, withTypes } from './postgres-catalog.ts';
import type { ListedColumns, PostgresColumn } from './postgres-catalog.ts';
import { redactUrl, toWarehouseError } from './postgres-errors.ts';
import type { ErrorContext } from './postgres-errors.ts';
import { buildMaxTimestampStatement, buildProfileStatement, selectMaxTimestamp, selectProfile } from './postgres-profile.ts';
import { createReadPool, withReadSession } from './postgres-session.ts';
import type { StatementClient } from './postgres-session.ts';
import { qualifiedName } from './quote.ts';
import type { BucketProfile, BucketQuery, CatalogTable, ListTablesOptions, TableRef, Warehouse } from './warehouse.ts';

export interface PostgresWarehouseOptions {
  /** Called with every SQL statement sent, transaction control included (tests count them). */
  onStatement?: (sql: string) => void;
}

// SQLSTATEs a statement built from outdated column types fails with: undefined column or table,
// undefined function/operator (avg over text), datatype mismatch, bad text-to-number cast.
const STALE_SCHEMA_STATES = new Set(['42703', '42P01', '42883', '42804', '22P02']);

export function createPostgresWarehouse(name: string, config: WarehouseConfig, logger: Logger, options: PostgresWarehouseOptions = {}): Warehouse {
  const log = logger.child({ warehouse: name });
  const redactedUrl = redactUrl(config.url);
  const pool = createReadPool({
    url: config.url,
    maxConnections: config.max_connections,
    statementTimeoutMs: config.statement_timeout,
    connectTimeoutMs: config.connect_timeout,
    logger: log,
  });
  const limit = createConcurrencyLimit(config.max_connections);
  const session = { logger: log, onStatement: options.onStatement };
  // Column types decide which SQL a profile needs. Caching them (refreshed by every catalog
  // listing) keeps a profile at one statement; a statement failing the way stale types make
  // it fail is retried once with freshly read columns.
  const columnCache = new Map<string, PostgresColumn[] | ListedColumns>();
  let closing: Promise<void> | undefined;

  async function read<T>(context: Omit<ErrorContext, 'warehouse' | 'redactedUrl'>, work: (client: StatementClient) => Promise<T>): Promise<T> {
    if (closing) throw new WarehouseError('warehouse_query', name, `Warehouse "${name}" is closed; pipewarden is shutting down.`);
    try {
      return await limit(() => withReadSession(pool, session, work));
    } catch (error) {
      throw toWarehouseError(error, { ...context, warehouse: name, redactedUrl });
    }
  }

  async function columnsOf(client: StatementClient, table: TableRef, useCache: boolean): Promise<PostgresColumn[]> {
    const cached = useCache ? columnCache.get(tableKey(table)) : undefined;
    if (Array.isArray(cached)) return cached;
    if (cached) {
      const typed = withTypes(cached);
      columnCache.set(tableKey(table), typed);
      return typed;
    }
    const columns = await selectTableColumns(client, table);
    if (columns.length === 0) {
      throw new WarehouseError(
        'warehouse_missing_object',
        name,
        `Table ${qualifiedName(table)} does not exist on warehouse "${name}", or the pipewarden role cannot see it. Check the name, or grant USAGE on the schema and SELECT on the table.`,
      );
    }
    columnCache.set(tableKey(table), columns);
    return columns;
  }

  /** Runs a column-dependent read, retrying once with fresh columns when cached ones misled it. */
  async function withColumns<T>(table: TableRef, column: string | undefined, work: (client: StatementClient, columns: PostgresColumn[]) => Promise<T>): Promise<T> {
    const hadCache = columnCache.has(tableKey(table));
    const attempt = (useCache: boolean) => read({ table, column }, async (client) => work(client, await columnsOf(client, table, useCache)));
    try {
      return await attempt(true);
    } catch (error) {
      if (!hadCache || !isStaleSchemaError(error)) throw error;
      columnCache.delete(tableKey(table));
      log.debug({ table: qualifiedName(table) }, 'cached columns were stale; reading them again');
      return attempt(false);
    }
  }

  return {
    name,
    async listTables(listOptions: ListTablesOptions = {}): Promise<CatalogTable[]> {
      const tables = await read({}, (client) => readCatalog(client, listOptions.schemas ?? config.schemas ?? null));
      if (!listOptions.schemas && !config.schemas) columnCache.clear();
      for (const table of tables) columnCache.set(tableKey(table), { columns: table.columns, typesJson: table.columnTypes });
      return tables.map(({ columnTypes: _types, ...table }) => table);
    },
    profileBuckets(query: BucketQuery): Promise<BucketProfile[]> {
      return withColumns(query.table, undefined, (client, columns) => selectProfile(client, buildProfileStatement(name, query, columns)));
    },
    maxTimestamp(table: TableRef, column: string): Promise<Date | null> {
      return withColumns(table, column, (client, columns) => selectMaxTimestamp(client, buildMaxTimestampStatement(name, table, columns, column)));
    },
    async ping(): Promise<void> {
      await read({}, (client) => client.query('SELECT 1'));
    },
    close(): Promise<void> {
      closing ??= pool.end();
      return closing;
    },
  };
}

function isStaleSchemaError(error: unknown): boolean {
  if (!(error instanceof WarehouseError)) return false;
  // Validation against cached columns (unknown column, wrong type) fails without a cause.
  if (error.cause === undefined) return error.code === 'warehouse_missing_object' || error.code === 'warehouse_query';
  const sqlState = (error.cause as { code?: unknown }).code;
  return typeof sqlState === 'string' && STALE_SCHEMA_STATES.has(sqlState);
}
