import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountHealthRoutes } from '../../src/http/health-routes.ts';
import type { ReadinessReport } from '../../src/http/readiness.ts';
import { HttpServer, jsonResponse } from '../../src/http/server.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';

const READY: ReadinessReport = {
  status: 'ready',
  state_db: { status: 'up', duration_ms: 1 },
  warehouses: { analytics: { status: 'up', duration_ms: 2 } },
};

function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('HttpServer', () => {
  const metrics = new Metrics();
  const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics, maxBodyBytes: 64 });
  let url: string;
  let readiness: ReadinessReport = READY;
  const received: { body: string; contentType: string | undefined }[] = [];

  beforeAll(async () => {
    mountHealthRoutes(server, { metrics, readiness: () => Promise.resolve(readiness) });
    server.route('POST', '/webhooks/test', (request) => {
      received.push({ body: request.rawBody.toString('utf8'), contentType: request.headers['content-type'] });
      return jsonResponse(202, { bytes: request.rawBody.length });
    });
    server.route('GET', '/broken', () => {
      throw new Error('handler bug');
    });
    url = await server.listen();
  });

  afterAll(() => server.close(1_000));

  it('reports the real port when asked for port 0', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url.endsWith(':0')).toBe(false);
  });

  it('answers /healthz with 200 and no dependencies', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 when ready and 503 with the failing dependency when not', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    readiness = {
      status: 'not_ready',
      state_db: { status: 'up', duration_ms: 1 },
      warehouses: { analytics: { status: 'down', code: 'warehouse_unreachable', message: 'refused', duration_ms: 3 } },
    };
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'not_ready', warehouses: { analytics: { code: 'warehouse_unreachable' } } });
    readiness = READY;
  });

  it('gives handlers the raw body bytes', async () => {
    const body = '{"b": 1,  "a":2}';
    const response = await fetch(`${url}/webhooks/test`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(202);
    expect(received.at(-1)).toEqual({ body, contentType: 'application/json' });
  });

  it('refuses bodies over the limit with 413', async () => {
    const response = await fetch(`${url}/webhooks/test`, { method: 'POST', body: 'x'.repeat(65) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('answers 404 JSON for unknown paths and 405 with Allow for wrong methods', async () => {
    const missing = await fetch(`${url}/nope?x=1`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const wrong = await fetch(`${url}/healthz`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('turns a throwing handler into a 500 without leaking the error', async () => {
    const response = await fetch(`${url}/broken`);
    expect(response.status).toBe(500);
    expect(JSON.stringify(await response.json())).not.toContain('handler bug');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('serves Prometheus text with pipewarden and process metrics, counting requests by route', async () => {
    await fetch(`${url}/healthz`);
    await fetch(`${url}/some/random/path`);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toMatch(/^pipewarden_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
    expect(text).toContain('pipewarden_process_cpu_seconds_total');
    expect(text).toContain('pipewarden_process_resident_memory_bytes');
    expect(text).toContain('pipewarden_nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/^pipewarden_http_requests_total\{route="\/healthz",status="200"\} \d+$/m);
    expect(text).toMatch(/^pipewarden_http_requests_total\{route="unmatched",status="404"\} \d+$/m);
    expect(text).not.toContain('/some/random/path');
    for (const name of ['job_runs_total', 'loop_errors_total', 'sweep_duration_seconds', 'tables_monitored', 'findings', 'warehouse_up', 'state_db_up', 'last_sweep_timestamp_seconds', 'http_request_duration_seconds', 'job_duration_seconds']) {
      expect(text).toContain(`# TYPE pipewarden_${name} `);
    }
  });

  it.skipIf(!promtoolAvailable())('passes `promtool check metrics` (install the Debian package `prometheus` to run this)', async () => {
    metrics.jobRuns.inc({ job: 'sweep', outcome: 'ok' });
    metrics.jobDuration.observe({ job: 'sweep' }, 1.5);
    metrics.findings.set({ kind: 'freshness', status: 'fail' }, 2);
    metrics.warehouseUp.set({ warehouse: 'analytics' }, 1);
    const text = await (await fetch(`${url}/metrics`)).text();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('closes idle keep-alive connections promptly on close', async () => {
    const other = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics({ processMetrics: false }) });
    mountHealthRoutes(other, { metrics, readiness: () => Promise.resolve(READY) });
    const otherUrl = await other.listen();
    await (await fetch(`${otherUrl}/healthz`, { keepalive: true })).text();
    const started = performance.now();
    await other.close(5_000);
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(fetch(`${otherUrl}/healthz`)).rejects.toThrow();
  });
});
