// The operational routes: liveness, readiness and Prometheus metrics.
// /healthz depends on nothing but the event loop, so a warehouse outage never gets the pod
// restarted; /readyz says whether this replica can work, and why not when it cannot.

import type { Metrics } from '../telemetry/metrics.ts';
import type { ReadinessReport } from './readiness.ts';
import type { HttpServer } from './server.ts';
import { jsonResponse } from './server.ts';

export interface HealthRouteDependencies {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
}

export function mountHealthRoutes(server: HttpServer, dependencies: HealthRouteDependencies): void {
  server.route('GET', '/healthz', () => jsonResponse(200, { status: 'ok' }));

  server.route('GET', '/readyz', async () => {
    const report = await dependencies.readiness();
    return jsonResponse(report.status === 'ready' ? 200 : 503, report);
  });

  server.route('GET', '/metrics', async () => ({
    status: 200,
    headers: { 'content-type': dependencies.metrics.contentType },
    body: await dependencies.metrics.render(),
  }));
}
