// The one root logger: pino, JSON lines on stdout. Components get child loggers with `asset`,
// `incident`, `run`, `step` bindings; nothing else creates a logger.
//
// Secrets are scrubbed by walking each log record rather than with pino's `redact` paths: those
// wildcards match exactly one level (`*.password` misses `config.state.password`), and the
// secrets that matter most here hide inside values — a warehouse URL with its password, a driver
// error whose message repeats that URL — which no path list can reach.

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
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]+@/gi;
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
  if (value instanceof Error) return scrubSecrets(pino.stdSerializers.err(value), depth + 1);
  if (value instanceof URL) return scrubText(value.href);
  if (Array.isArray(value)) return value.map((item) => scrubSecrets(item, depth + 1));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && item !== undefined && item !== null ? REDACTED : scrubSecrets(item, depth + 1);
  }
  return copy;
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'pipewarden' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => scrubSecrets(bindings) as Record<string, unknown>,
      log: (record) => scrubSecrets(record) as Record<string, unknown>,
    },
    hooks: {
      // The message and its printf arguments are not part of the record `formatters.log` sees.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg));
        method.apply(this, scrubbed as Parameters<pino.LogFn>);
      },
    },
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
