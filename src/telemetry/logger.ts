// The one root logger: pino, JSON lines on stdout. Components get child loggers with `asset`,
// `incident`, `run`, `step` bindings; nothing else creates a logger.
//
// Secrets are scrubbed in two passes rather than with pino's `redact` paths, whose wildcards match
// exactly one level (`*.password` misses `config.state.password`) and cannot see inside values:
// - each record is walked and values under secret-looking keys (`password`, `bot_token`,
//   `authorization`, …) are censored at any depth, errors included;
// - each finished line has credentials cut out of URLs (`postgres://user:…@host`, `?token=…`),
//   which also covers the message, child bindings and stack traces — the places a driver error
//   repeating a connection string ends up.
// Child bindings are only URL-scrubbed: bind context (asset, run, warehouse), never secrets.

import { hostname } from 'node:os';
import pino from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout when omitted. Tests pass a stream they can read. */
  destination?: pino.DestinationStream;
}

const REDACTED = '[Redacted]';
const MAX_DEPTH = 8;

/** Keys whose values are secrets whatever they hold (matched on the whole key or its last `_`/`-` part). */
const SECRET_KEY =
  /^(?:.*[_-])?(?:password|passwd|secret|secrets|token|tokens|authorization|cookie|routing_key|api[_-]?key|private[_-]?key|credentials?)$/i;

// `scheme://user:password@host` → `scheme://user:[Redacted]@host`; also `?password=…` query params.
// Quotes are excluded so a match never runs across two JSON strings of a finished line.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"]*):[^\s/@"]+@/gi;
const QUERY_SECRET = /([?&](?:password|sslpassword|token|access_token|api_key|key)=)[^&\s#"']+/gi;

export function scrubText(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1:${REDACTED}@`).replace(QUERY_SECRET, `$1${REDACTED}`);
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Returns a copy of `value` with secret-named keys censored and credentials cut out of strings. */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[Object]';
  if (value instanceof Error) return scrubSecrets(serializeError(value), depth + 1);
  if (value instanceof URL) return scrubText(value.href);
  if (Array.isArray(value)) return value.map((item) => scrubSecrets(item, depth + 1));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && item !== undefined && item !== null ? REDACTED : scrubSecrets(item, depth + 1);
  }
  return copy;
}

/** An error as a plain object: type, message, stack, its own fields (code, warehouse, …) and cause. */
function serializeError(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.constructor.name || error.name, message: error.message, stack: error.stack };
  for (const [key, item] of Object.entries(error)) fields[key] ??= item;
  if (error.cause !== undefined) fields.cause = error.cause;
  if (error instanceof AggregateError) fields.errors = error.errors;
  return fields;
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'pipewarden', pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (record) => scrubSecrets(record) as Record<string, unknown>,
    },
    // Errors are already plain objects once `formatters.log` has run; pino's own err serializer
    // would relabel them as type "Object".
    serializers: { err: (value: unknown) => value },
    hooks: { streamWrite: scrubText },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** Writes out buffered lines; resolves even if the destination cannot flush. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
