// OpenTelemetry end to end: real daemons over a real warehouse export to a loopback OTLP/HTTP
// receiver (http/json), configured only by the standard OTEL_* variables of their environment.
// A stale table makes the first sweep fail its freshness check and open an incident; the spans
// of that work and the Prometheus metrics (exported through OTLP from the same registry) must
// arrive. A runbook's http step must carry its trace context to the service it calls.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { httpAction } from '../../src/runbooks/actions/http.ts';
import { otelSettings } from '../../src/telemetry/otel-settings.ts';
import { startTracing, withSpan } from '../../src/telemetry/tracing.ts';
import { convertPrometheusMetrics } from '../../src/telemetry/registry-metric-producer.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testActionContext } from '../helpers/action-context.ts';
import { testLogger } from '../helpers/logger.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const STALE_TABLE = "create schema raw; create table raw.orders (id int, loaded_at timestamptz); insert into raw.orders values (1, now() - interval '1 hour')";

function otelEnv(receiver: OtlpReceiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'pipewarden-otlp-test',
  };
}

function byId(spans: readonly ReceivedSpan[], id: string | undefined): ReceivedSpan | undefined {
  return spans.find((span) => span.spanId === id);
}

describe('OTLP export from a running daemon', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let receiver: OtlpReceiver;
  let daemon: RunningDaemon | undefined;

  beforeAll(async () => {
    [state, warehouse, receiver] = await Promise.all([createTestDatabase(), createBlankDatabase(), startOtlpReceiver()]);
    await warehouse.pool().query(STALE_TABLE);
    const config = daemonConfig(state.url, { shop: warehouse.url }, {
      monitors: [{ assets: 'shop.raw.*', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
      incidents: { pending: { fail: 1 } } as never,
    });
    daemon = await startDaemon({ config, env: otelEnv(receiver), logger: testLogger() });
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop('test finished');
    await receiver.stop();
    await Promise.all([state.drop(), warehouse.drop()]);
  });

  it('exports the registry\'s metrics periodically: counters as monotonic sums, gauges, histograms, with their values and labels', async () => {
    const runs = await waitUntil(
      () => Promise.resolve(receiver.latest('pipewarden_job_runs_total', { job: 'sweep', outcome: 'ok' }).find((point) => point.value === 1)),
      20_000,
      'pipewarden_job_runs_total{job="sweep",outcome="ok"} 1 over OTLP',
    );
    expect(runs).toMatchObject({ kind: 'sum', isMonotonic: true });
    // The export that counted the sweep also has the findings it left: one failed freshness check.
    const findings = receiver.points().filter((point) => point.exportIndex === runs.exportIndex && point.metric === 'pipewarden_findings');
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'gauge', attributes: { kind: 'freshness', status: 'fail' }, value: 1 }));
    const opened = receiver.points().filter((point) => point.exportIndex === runs.exportIndex && point.metric === 'pipewarden_incidents_opened_total');
    expect(opened.reduce((total, point) => total + (point.value ?? 0), 0)).toBe(1);
    const sweep = receiver.points().find((point) => point.exportIndex === runs.exportIndex && point.metric === 'pipewarden_sweep_duration_seconds' && point.attributes.warehouse === 'shop');
    expect(sweep?.kind).toBe('histogram');
    expect(sweep?.histogram?.count).toBe(1);
    expect(sweep?.histogram?.bucketCounts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(sweep?.histogram?.explicitBounds).toContain(0.05);
    // The same values /metrics serves: one definition, two ways out.
    const scrape = await (await fetch(`${daemon?.httpUrl}/metrics`)).text();
    expect(scrape).toMatch(/^pipewarden_findings\{kind="freshness",status="fail"\} 1$/m);
  }, 30_000);

  it('exports spans of the sweep, its check evaluation and the incident it opened, parented and attributed', async () => {
    const sweep = await receiver.waitForSpan('sweep warehouse', 20_000);
    const evaluation = await receiver.waitForSpan('evaluate checks', 20_000);
    const apply = await receiver.waitForSpan('apply findings', 20_000, (span) => span.events.some((event) => event.name === 'opened'));
    const spans = receiver.spans();
    const job = byId(spans, sweep.parentSpanId);
    expect(job?.name).toBe('job sweep');
    expect(job?.attributes).toMatchObject({ 'pipewarden.job': 'sweep' });
    expect(sweep).toMatchObject({ traceId: job?.traceId, service: 'pipewarden-otlp-test', attributes: { 'pipewarden.warehouse': 'shop', 'pipewarden.tables': 1, 'pipewarden.findings': 1 } });
    expect(evaluation).toMatchObject({ traceId: sweep.traceId, parentSpanId: sweep.spanId });
    expect(evaluation.attributes).toMatchObject({ 'pipewarden.warehouse': 'shop', 'pipewarden.assets': 1, 'pipewarden.findings.fail': 1, 'pipewarden.findings.ok': 0 });
    // The incident transition belongs to the sweep job's trace.
    expect(apply.traceId).toBe(job?.traceId);
    expect(apply.attributes).toMatchObject({ 'pipewarden.incidents.opened': 1 });
    expect(apply.events.find((event) => event.name === 'opened')?.attributes['pipewarden.incident.id']).toMatch(/^\d+$/);
    // Nothing secret or row-level leaves in a span: not the warehouse's password, not the finding's message.
    const password = new URL(warehouse.url).password;
    const bodies = receiver.requests.map((request) => request.rawBody).join('\n');
    if (password !== '') expect(bodies).not.toContain(password);
    expect(bodies).not.toContain('loaded_at');
  }, 30_000);
});

const CALL_SERVICE = (url: string) => `name: call-service
match: { checks: [freshness], assets: ["shop.raw.orders"] }
steps:
  - name: notify-service
    action: http
    with:
      method: POST
      url: ${url}/hooks/stale
      json: { asset: "\${asset.key}" }
      expect_status: [200]
`;

describe('trace context of a runbook http step', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let receiver: OtlpReceiver;
  let service: RecordingHttpServer;
  let daemon: RunningDaemon | undefined;
  let dir: string;

  beforeAll(async () => {
    [state, warehouse, receiver, service] = await Promise.all([createTestDatabase(), createBlankDatabase(), startOtlpReceiver(), startRecordingHttpServer()]);
    await warehouse.pool().query(STALE_TABLE);
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-otlp-'));
    await mkdir(path.join(dir, 'runbooks'));
    await writeFile(path.join(dir, 'runbooks', 'call.yaml'), CALL_SERVICE(service.url));
    const config = daemonConfig(state.url, { shop: warehouse.url }, {
      monitors: [{ assets: 'shop.raw.*', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
      incidents: { pending: { fail: 1 } } as never,
      runbooks: { folder: path.join(dir, 'runbooks'), lease: '5s' } as never,
    });
    daemon = await startDaemon({ config, env: otelEnv(receiver), logger: testLogger() });
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop('test finished');
    await Promise.all([receiver.stop(), service.stop()]);
    await Promise.all([state.drop(), warehouse.drop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a traceparent whose trace is the run\'s and whose parent is the step\'s span', async () => {
    const [request] = await service.waitForRequests(1, 40_000);
    const traceparent = request?.headers.traceparent;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, parentId] = (traceparent as string).split('-');
    const run = await receiver.waitForSpan('runbook run', 20_000, (span) => span.traceId === traceId);
    const step = byId(receiver.spans(), parentId);
    expect(step).toMatchObject({ name: 'runbook step', traceId, parentSpanId: run.spanId });
    expect(step?.attributes).toMatchObject({ 'pipewarden.runbook': 'call-service', 'pipewarden.step': 'notify-service', 'pipewarden.action': 'http' });
    expect(run.attributes).toMatchObject({ 'pipewarden.runbook': 'call-service', 'pipewarden.asset': 'shop.raw.orders' });
  }, 60_000);

  it('sends no trace context once tracing is off', async () => {
    await daemon?.stop('tracing off from here');
    daemon = undefined;
    service.respondWith([]);
    await httpAction.run(httpAction.input.parse({ method: 'GET', url: `${service.url}/plain` }), testActionContext());
    const [request] = await service.waitForRequests(1);
    expect(request?.headers.traceparent).toBeUndefined();
    expect(request?.headers.tracestate).toBeUndefined();
  });
});

describe('OTLP settings and conversion', () => {
  it('speaks http/protobuf by default: both signals reach their paths as protobuf, flushed at shutdown', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const metrics = new Metrics({ processMetrics: false });
      metrics.jobRuns.inc({ job: 'profile', outcome: 'ok' });
      const tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { registry: metrics.registry });
      expect(tracing).toMatchObject({ enabled: true, metricsEnabled: true });
      await withSpan('profile warehouse', { 'pipewarden.warehouse': 'shop' }, () => Promise.resolve());
      await tracing.shutdown();
      const byPath = (pathname: string) => receiver.requests.filter((request) => request.pathname === pathname);
      expect(byPath('/v1/traces').map((request) => request.headers['content-type'])).toContain('application/x-protobuf');
      expect(byPath('/v1/metrics').map((request) => request.headers['content-type'])).toContain('application/x-protobuf');
      // Protobuf carries strings as plain UTF-8: the names are in the bytes, not JSON keys.
      expect(byPath('/v1/traces').map((request) => request.rawBody).join('')).toContain('profile warehouse');
      expect(byPath('/v1/metrics').map((request) => request.rawBody).join('')).toContain('pipewarden_job_runs_total');
      expect(byPath('/v1/metrics').map((request) => request.rawBody).join('')).not.toContain('"resourceMetrics"');
    } finally {
      await receiver.stop();
    }
  });

  it('is off without an endpoint or exporter, and each signal can be turned off on its own', () => {
    expect(otelSettings({})).toMatchObject({ traces: undefined, metrics: undefined });
    const both = otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(both.traces).toEqual({ kind: 'otlp', url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', headers: {} });
    expect(both.metrics).toMatchObject({ kind: 'otlp', url: 'http://collector:4318/v1/metrics' });
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none' }).metrics).toBeUndefined();
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).traces).toBeUndefined();
    const own = otelSettings({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://m.example/otlp', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=data' });
    expect(own.traces).toBeUndefined();
    expect(own.metrics).toEqual({ kind: 'otlp', url: 'https://m.example/otlp', protocol: 'http/protobuf', headers: { authorization: 'Bearer abc', 'x-team': 'data' } });
    expect(otelSettings({ OTEL_METRIC_EXPORT_INTERVAL: '1000' })).toMatchObject({ metricIntervalMs: 1000, metricTimeoutMs: 1000 });
  });

  it('refuses bad values naming the variable and what to do, without quoting header values', () => {
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: protocol "grpc" is not supported.*http\/protobuf or http\/json/);
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: uses collector, not http or https/);
    expect(() => otelSettings({ OTEL_METRIC_EXPORT_INTERVAL: '1m' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL: "1m" is not a whole number/);
    expect(() => otelSettings({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER: .*otlp.*console.*none/);
    const secret = 'hunter2-token;rm -rf';
    let message = '';
    try {
      otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: `ok=1,${secret}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value/);
    expect(message).not.toContain('hunter2');
  });

  it('turns cumulative Prometheus buckets into per-bucket histogram counts', async () => {
    const metrics = new Metrics({ processMetrics: false });
    for (const seconds of [0.03, 0.2, 0.2, 4, 5000]) metrics.sweepDuration.observe({ warehouse: 'shop' }, seconds);
    metrics.jobRuns.inc({ job: 'sweep', outcome: 'ok' }, 3);
    const times = { startTime: [1, 0] as [number, number], endTime: [2, 0] as [number, number] };
    const converted = convertPrometheusMetrics((await metrics.registry.getMetricsAsJSON()) as never, times);
    const sweep = converted.find((metric) => metric.descriptor.name === 'pipewarden_sweep_duration_seconds');
    expect(sweep?.descriptor.unit).toBe('s');
    const point = sweep?.dataPoints[0] as { attributes: Record<string, string>; value: { buckets: { boundaries: number[]; counts: number[] }; count: number; sum: number } };
    expect(point.attributes).toEqual({ warehouse: 'shop' });
    expect(point.value.buckets.boundaries.slice(0, 4)).toEqual([0.05, 0.1, 0.25, 0.5]);
    // 0.03 → ≤0.05; 0.2 twice → ≤0.25; 4 → ≤5; 5000 → +Inf (beyond the last bound, 1800).
    expect(point.value.buckets.counts).toEqual([1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(point.value.count).toBe(5);
    expect(point.value.sum).toBeCloseTo(5004.43, 6);
    const runs = converted.find((metric) => metric.descriptor.name === 'pipewarden_job_runs_total');
    expect(runs).toMatchObject({ dataPointType: 3, isMonotonic: true, dataPoints: [expect.objectContaining({ attributes: { job: 'sweep', outcome: 'ok' }, value: 3 })] });
  });
});
