// What the standard OTEL_* variables of the environment snapshot ask pipewarden to export, read
// here rather than by the SDK from process.env, so a daemon started with its own environment (a
// test, an embedding) exports where that environment says. Only OTLP over HTTP (protobuf or JSON)
// and the console are offered; anything else is refused with the variable to change.
//
// Traces are on when OTEL_TRACES_EXPORTER names an exporter or an OTLP endpoint is set; metrics
// when OTEL_METRICS_EXPORTER names one or an endpoint is set. `none` turns either off, and
// OTEL_SDK_DISABLED=true turns both off.

import type { Environment } from '../config/environment.ts';
import { PipewardenError } from '../errors.ts';

export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type SignalExporter = { kind: 'console' } | { kind: 'otlp'; url: string; protocol: OtlpProtocol; headers: Record<string, string> };

export interface OtelSettings {
  serviceName: string;
  traces: SignalExporter | undefined;
  /** Batch span processor settings (OTEL_BSP_*); unset fields keep the SDK's defaults. */
  batch: { scheduledDelayMillis?: number; exportTimeoutMillis?: number; maxQueueSize?: number; maxExportBatchSize?: number };
  metrics: SignalExporter | undefined;
  metricIntervalMs: number;
  metricTimeoutMs: number;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';
const DEFAULT_METRIC_INTERVAL_MS = 60_000;
const DEFAULT_METRIC_TIMEOUT_MS = 30_000;

type Signal = 'traces' | 'metrics';

function value(env: Environment, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === '' ? undefined : text;
}

function invalid(name: string, problem: string, fix: string): PipewardenError {
  return new PipewardenError('otel_env_invalid', `environment variable ${name}: ${problem}; ${fix}`);
}

/** The exporter names a signal's OTEL_*_EXPORTER lists, or undefined when it is unset. */
function exporterNames(env: Environment, signal: Signal): string[] | undefined {
  const text = value(env, `OTEL_${signal.toUpperCase()}_EXPORTER`);
  return text === undefined ? undefined : [...new Set(text.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
}

export function signalRequested(env: Environment, signal: Signal): boolean {
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return false;
  const names = exporterNames(env, signal);
  if (names !== undefined) return names.length > 0 && !names.includes('none');
  return value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || value(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`) !== undefined;
}

function signalExporter(env: Environment, signal: Signal): SignalExporter | undefined {
  if (!signalRequested(env, signal)) return undefined;
  const variable = `OTEL_${signal.toUpperCase()}_EXPORTER`;
  const names = exporterNames(env, signal) ?? ['otlp'];
  const unknown = names.filter((name) => name !== 'otlp' && name !== 'console');
  if (unknown.length > 0 || names.length > 1) {
    throw invalid(variable, `pipewarden exports ${signal} to one of otlp or console, not "${names.join(',')}"`, 'set it to otlp (with OTEL_EXPORTER_OTLP_ENDPOINT), console or none');
  }
  if (names[0] === 'console') return { kind: 'console' };
  return { kind: 'otlp', url: endpointUrl(env, signal), protocol: protocol(env, signal), headers: { ...headers(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...headers(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`) } };
}

/** The signal's own endpoint is used as given; the shared one gets `/v1/<signal>` appended, as the OTLP spec says. */
function endpointUrl(env: Environment, signal: Signal): string {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const own = value(env, specific);
  const [name, url] = own !== undefined ? [specific, own] : ['OTEL_EXPORTER_OTLP_ENDPOINT', `${(value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/${signal}`];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(name, 'is not a URL', 'set it to the collector\'s OTLP/HTTP address, e.g. http://otel-collector:4318');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalid(name, `uses ${parsed.protocol.replace(/:$/, '')}, not http or https`, 'set it to the collector\'s OTLP/HTTP address, e.g. http://otel-collector:4318');
  }
  return parsed.href;
}

function protocol(env: Environment, signal: Signal): OtlpProtocol {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  const name = value(env, specific) !== undefined ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const chosen = value(env, name) ?? 'http/protobuf';
  if (chosen === 'http/protobuf' || chosen === 'http/json') return chosen;
  throw invalid(name, `protocol "${chosen}" is not supported (pipewarden speaks OTLP over HTTP)`, 'set it to http/protobuf or http/json');
}

/** `key=value,key2=value2`, percent-encoded (W3C baggage style). Values are never quoted back: they are often tokens. */
function headers(env: Environment, name: string): Record<string, string> {
  const text = value(env, name);
  if (text === undefined) return {};
  const result: Record<string, string> = {};
  for (const [index, entry] of text.split(',').entries()) {
    const at = entry.indexOf('=');
    const key = entry.slice(0, Math.max(0, at)).trim();
    if (at < 0 || key === '') throw invalid(name, `entry ${index + 1} is not key=value`, 'write it as key=value pairs separated by commas, e.g. authorization=Bearer%20TOKEN');
    try {
      result[decodeURIComponent(key)] = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      throw invalid(name, `entry ${index + 1} has a malformed percent-encoding`, 'percent-encode reserved characters, e.g. a space as %20');
    }
  }
  return result;
}

function wholeNumber(env: Environment, name: string, minimum: number): number | undefined {
  const text = value(env, name);
  if (text === undefined) return undefined;
  const parsed = Number(text);
  if (!Number.isInteger(parsed) || parsed < minimum) throw invalid(name, `"${text}" is not a whole number ≥ ${minimum}`, 'give a whole number (delays and timeouts in milliseconds), e.g. 60000');
  return parsed;
}

export function otelSettings(env: Environment): OtelSettings {
  const metricIntervalMs = wholeNumber(env, 'OTEL_METRIC_EXPORT_INTERVAL', 1) ?? DEFAULT_METRIC_INTERVAL_MS;
  const scheduledDelayMillis = wholeNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 0);
  const exportTimeoutMillis = wholeNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 1);
  const maxQueueSize = wholeNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1);
  const maxExportBatchSize = wholeNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1);
  return {
    serviceName: value(env, 'OTEL_SERVICE_NAME') ?? 'pipewarden',
    traces: signalExporter(env, 'traces'),
    batch: {
      ...(scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis }),
      ...(exportTimeoutMillis === undefined ? {} : { exportTimeoutMillis }),
      ...(maxQueueSize === undefined ? {} : { maxQueueSize }),
      ...(maxExportBatchSize === undefined ? {} : { maxExportBatchSize }),
    },
    metrics: signalExporter(env, 'metrics'),
    metricIntervalMs,
    // A collection may not outlast the interval (the SDK clamps it the same way).
    metricTimeoutMs: Math.min(wholeNumber(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 1) ?? DEFAULT_METRIC_TIMEOUT_MS, metricIntervalMs),
  };
}
