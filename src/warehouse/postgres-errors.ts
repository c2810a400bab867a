// Turns whatever pg or the network threw into a WarehouseError with a stable code and a message
// that names the warehouse (and table or column when known) and says what to do next.

import { errorMessage, WarehouseError } from '../errors.ts';
import type { WarehouseErrorCode } from '../errors.ts';
import { qualifiedName } from './quote.ts';
import type { TableRef } from './warehouse.ts';

export interface ErrorContext {
  warehouse: string;
  /** The connection URL, already redacted, for "could not reach" messages. */
  redactedUrl: string;
  table?: TableRef;
  column?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

// Messages pg and pg-pool use for connection-level failures (they carry no code).
const NETWORK_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
  'Connection terminated',
];

/** The URL with its password replaced, safe for logs and messages. Unparseable URLs are hidden whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable connection URL)';
  }
}

export function toWarehouseError(error: unknown, context: ErrorContext): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const code = classify(error);
  return new WarehouseError(code, context.warehouse, describe(code, error, context), { cause: error });
}

function classify(error: unknown): WarehouseErrorCode {
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) return classifySqlState(sqlState);
  if (networkCodesOf(error).some((code) => NETWORK_CODES.has(code))) return 'warehouse_unreachable';
  const message = errorMessage(error);
  if (message === 'Query read timeout') return 'warehouse_timeout';
  if (NETWORK_MESSAGES.some((known) => message.startsWith(known))) return 'warehouse_unreachable';
  return 'warehouse_query';
}

function classifySqlState(sqlState: string): WarehouseErrorCode {
  if (sqlState === '28P01' || sqlState === '28000') return 'warehouse_auth';
  // 55P03: lock_timeout expired waiting behind another session's lock (a DDL or TRUNCATE).
  if (sqlState === '57014' || sqlState === '55P03') return 'warehouse_timeout';
  if (['42P01', '42703', '3F000', '3D000'].includes(sqlState)) return 'warehouse_missing_object';
  // Class 08 is connection exceptions; 57P01–57P03 are the server shutting down or starting up.
  if (sqlState.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(sqlState)) return 'warehouse_unreachable';
  return 'warehouse_query';
}

function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  // SQLSTATEs are five characters of digits and capitals; Node's network codes start with E and are longer.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Node reports a refused dual-stack connect as an AggregateError whose parts carry the codes. */
function networkCodesOf(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const own = (error as { code?: unknown }).code;
  const codes = typeof own === 'string' ? [own] : [];
  if (error instanceof AggregateError) for (const inner of error.errors) codes.push(...networkCodesOf(inner));
  return codes;
}

function describe(code: WarehouseErrorCode, error: unknown, context: ErrorContext): string {
  const where = `warehouse "${context.warehouse}"`;
  const what = context.table ? ` reading ${qualifiedName(context.table)}${context.column ? ` column ${JSON.stringify(context.column)}` : ''}` : '';
  const detail = errorMessage(error) || networkCodesOf(error).join(', ') || 'unknown error';
  switch (code) {
    case 'warehouse_unreachable':
      return `Cannot reach ${where} at ${context.redactedUrl} (${detail}). Check that the database is running, the host and port in warehouses.${context.warehouse}.url are right, and the network allows the connection.`;
    case 'warehouse_auth':
      return `The ${where} refused the login (${detail}). Check the user and password in warehouses.${context.warehouse}.url.`;
    case 'warehouse_timeout':
      if (sqlStateOf(error) === '55P03') {
        return `The ${where} kept a statement${what} waiting for a lock another session holds (${detail}); pipewarden gave up rather than queue behind it and will try again. If it persists, look for a long-running ALTER, TRUNCATE or VACUUM FULL.`;
      }
      return `The ${where} cancelled a statement${what} that ran past its time limit (${detail}). Raise warehouses.${context.warehouse}.statement_timeout, narrow the profiled range, or index the time column.`;
    case 'warehouse_missing_object':
      return `The ${where} has no such object${what} (${detail}). Check the names in the config, or whether the table was renamed or dropped.`;
    case 'warehouse_query':
      return `The ${where} rejected a statement${what} (${detail}). ${queryHint(sqlStateOf(error))}`;
  }
}

function queryHint(sqlState: string | undefined): string {
  if (sqlState === '42501') return 'Grant the pipewarden role USAGE on the schema and SELECT on the table.';
  if (sqlState === '25006') return 'pipewarden only reads; a view or function that writes cannot be profiled.';
  // Class 22: a value that cannot be converted, e.g. a text time column holding something else.
  if (sqlState?.startsWith('22')) return 'A value in the table could not be read as expected; check the column holds what the monitor config says.';
  return 'Check the monitor config for this table; if it looks right, this is a pipewarden bug worth reporting.';
}

/**
 * What of a driver error is safe to log. pg-pool hangs the whole client (password included) on
 * errors it emits, and pino would serialize every enumerable property of it.
 */
export function loggableError(error: unknown): { type: string; message: string; code?: string } {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return {
    type: error instanceof Error ? error.name : typeof error,
    message: errorMessage(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
