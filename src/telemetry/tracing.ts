// OpenTelemetry: traces of pipewarden's work, and the Prometheus metrics over OTLP. The SDK starts
// only when the environment asks for an exporter (otel-settings.ts reads the standard OTEL_*
// variables from the Environment snapshot), so a first run never tries to reach a collector;
// without it, @opentelemetry/api hands out a no-op tracer and `withSpan` costs next to nothing.
//
// Metrics are defined once, with prom-client (metrics.ts): when OTLP metrics are asked for, a
// periodic reader exports that registry through RegistryMetricProducer; the SDK's own meters stay
// empty. Logs stay on stdout, so the SDK builds no logger provider.

import type { Attributes, Span } from '@opentelemetry/api';
import { context, metrics, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Environment } from '../config/environment.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { PIPEWARDEN_VERSION } from '../version.ts';
import { scrubText } from './logger.ts';
import { otelSettings, signalRequested, type OtelSettings, type SignalExporter } from './otel-settings.ts';
import { RegistryMetricProducer } from './registry-metric-producer.ts';

export interface Tracing {
  /** True when an exporter is configured and spans leave the process. */
  readonly enabled: boolean;
  /** True when the metrics registry is exported over OTLP (or to the console). */
  readonly metricsEnabled: boolean;
  /** Exports buffered spans and metrics and stops the SDK; safe to call when disabled. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** The prom-client registry to export when the environment asks for OTLP metrics. */
  registry?: Registry;
}

const TRACER_NAME = 'pipewarden';
/** A stopping daemon waits at most this long for the last export (a collector that hangs must not hold it). */
const SHUTDOWN_BUDGET_MS = 5_000;

export function tracingRequested(env: Environment): boolean {
  return signalRequested(env, 'traces');
}

export function metricsExportRequested(env: Environment): boolean {
  return signalRequested(env, 'metrics');
}

/** Starts the SDK when the environment configures an exporter; loaded lazily, it is large. Bad OTEL_* values throw, naming the variable. */
export async function startTracing(env: Environment, options: TracingOptions = {}): Promise<Tracing> {
  const settings = otelSettings(env);
  const metricsOn = settings.metrics !== undefined && options.registry !== undefined;
  if (settings.traces === undefined && !metricsOn) return { enabled: false, metricsEnabled: false, shutdown: () => Promise.resolve() };
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    spanProcessors: settings.traces === undefined ? [] : [await spanProcessor(settings.traces, settings)],
    metricReaders: settings.metrics === undefined || options.registry === undefined ? [] : [await metricReader(settings.metrics, settings, options.registry)],
    logRecordProcessors: [],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    await settleWithin(sdk.shutdown(), SHUTDOWN_BUDGET_MS);
    // Unregister the globals, so a later start in this process (a test, a restart) can register its own.
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  };
  return { enabled: settings.traces !== undefined, metricsEnabled: metricsOn, shutdown: () => (stopped ??= shutdown()) };
}

async function spanProcessor(exporter: SignalExporter, settings: OtelSettings) {
  const { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace');
  if (exporter.kind === 'console') return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  const config = { url: exporter.url, headers: exporter.headers };
  const otlp = exporter.protocol === 'http/json'
    ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(config)
    : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(config);
  return new BatchSpanProcessor({ exporter: otlp, ...settings.batch });
}

async function metricReader(exporter: SignalExporter, settings: OtelSettings, registry: Registry) {
  const { ConsoleMetricExporter, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
  let push;
  if (exporter.kind === 'console') {
    push = new ConsoleMetricExporter();
  } else {
    const config = { url: exporter.url, headers: exporter.headers };
    push = exporter.protocol === 'http/json'
      ? new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(config)
      : new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(config);
  }
  return new PeriodicExportingMetricReader({
    exporter: push,
    exportIntervalMillis: settings.metricIntervalMs,
    exportTimeoutMillis: settings.metricTimeoutMs,
    metricProducers: [new RegistryMetricProducer(registry)],
  });
}

/** Waits for `work`, but no longer than `ms`; its failure is not the caller's (telemetry must not fail a shutdown). */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([work.then(() => undefined, () => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn` inside a span named `name`, ended when `fn` settles. A thrown error is recorded on
 * the span (with its stable code when it has one) and rethrown unchanged.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME, PIPEWARDEN_VERSION);
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      if (error instanceof Error) span.recordException(error);
      if (error instanceof PipewardenError) span.setAttribute('pipewarden.error.code', error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: scrubText(errorMessage(error)) });
      throw error;
    } finally {
      span.end();
    }
  });
}
