// OpenTelemetry tracing. The SDK starts only when the environment asks for an exporter, so a
// first run never tries to reach a collector; without it, @opentelemetry/api hands out a no-op
// tracer and `withSpan` costs next to nothing. Metrics stay on Prometheus (/metrics) and logs on
// stdout, so the SDK is told to build neither.
//
// The decision is taken from the Environment snapshot; the SDK itself then reads its OTEL_*
// settings (endpoint, protocol, sampler) from the process environment, which is the same
// snapshot in the daemon.

import type { Attributes, Span } from '@opentelemetry/api';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Environment } from '../config/environment.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { PIPEWARDEN_VERSION } from '../version.ts';
import { scrubText } from './logger.ts';

export interface Tracing {
  /** True when an exporter is configured and spans leave the process. */
  readonly enabled: boolean;
  /** Exports buffered spans and stops the SDK; safe to call when disabled. */
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'pipewarden';

export function tracingRequested(env: Environment): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none') return false;
  return Boolean(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Starts the SDK when the environment configures an exporter; loaded lazily, it is large. */
export async function startTracing(env: Environment): Promise<Tracing> {
  if (!tracingRequested(env) || env.OTEL_SDK_DISABLED === 'true') {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'pipewarden',
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
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
