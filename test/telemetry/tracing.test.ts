import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/errors.ts';
import { startTracing, tracingRequested, withSpan } from '../../src/telemetry/tracing.ts';

describe('tracing', () => {
  afterEach(() => {
    trace.disable();
  });

  it('is requested only when the environment names an exporter or endpoint', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
  });

  it('does not start the SDK without configuration', async () => {
    const tracing = await startTracing({});
    expect(tracing.enabled).toBe(false);
    await tracing.shutdown();
  });

  it('starts and shuts down the SDK when an exporter is configured', async () => {
    const tracing = await startTracing({ OTEL_TRACES_EXPORTER: 'console', OTEL_SDK_DISABLED: 'false' });
    expect(tracing.enabled).toBe(true);
    await tracing.shutdown();
  });

  it('withSpan passes values and errors through the no-op tracer', async () => {
    expect(await withSpan('noop', {}, () => Promise.resolve(42))).toBe(42);
    await expect(withSpan('noop', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('withSpan records a span with attributes, and errors with their code and a scrubbed message', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    trace.setGlobalTracerProvider(provider);
    await withSpan('job sweep', { 'pipewarden.job': 'sweep' }, () => Promise.resolve('ok'));
    const failure = new WarehouseError('warehouse_unreachable', 'analytics', 'connect to postgres://u:hunter2@db/x failed');
    await expect(withSpan('job profile', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['job sweep', 'job profile']);
    expect(spans[0]?.attributes['pipewarden.job']).toBe('sweep');
    expect(spans[0]?.status.code).toBe(0);
    expect(spans[1]?.status).toMatchObject({ code: 2 });
    expect(spans[1]?.status.message).not.toContain('hunter2');
    expect(spans[1]?.attributes['pipewarden.error.code']).toBe('warehouse_unreachable');
    await provider.shutdown();
  });
});
