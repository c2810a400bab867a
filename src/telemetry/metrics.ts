// Every Prometheus metric pipewarden exposes, defined once. Each Metrics instance owns its own
// Registry rather than prom-client's global one, so tests and several daemons in one process
// never collide over a name. Names: `pipewarden_` prefix, base units, counters end in `_total`.
// Alerting rules (alerts/) and dashboards (dashboards/) depend on these names and labels: renaming
// one is a breaking change.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PIPEWARDEN_VERSION } from '../version.ts';

export type JobOutcome = 'ok' | 'error' | 'skipped';

export interface MetricsOptions {
  /** Reported in pipewarden_build_info; the package version when omitted. */
  version?: string;
  /** Process metrics (CPU, memory, event loop, GC); on by default. */
  processMetrics?: boolean;
}

// Jobs and sweeps run from under a second to many minutes against a slow warehouse.
const LONG_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// prom-client names these gauges `*_total`, which promtool rejects (the suffix promises a counter).
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** prom-client's process and Node.js runtime metrics, minus those with names promtool rejects. */
function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'pipewarden_' });
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(`pipewarden_${name}`);
}

export class Metrics {
  readonly registry: Registry;
  readonly buildInfo: Gauge<'version'>;
  readonly jobRuns: Counter<'job' | 'outcome'>;
  readonly jobDuration: Histogram<'job'>;
  readonly loopErrors: Counter<'loop'>;
  readonly sweepDuration: Histogram<'warehouse'>;
  readonly tablesMonitored: Gauge<'warehouse'>;
  readonly findings: Gauge<'kind' | 'status'>;
  readonly warehouseUp: Gauge<'warehouse'>;
  readonly stateDbUp: Gauge;
  readonly lastSweepTimestamp: Gauge<'warehouse'>;
  readonly pipelineSourceUp: Gauge<'kind' | 'source'>;
  readonly collectionErrors: Counter<'source'>;
  readonly notificationsDelivered: Counter<'channel'>;
  readonly notificationsRetried: Counter<'channel'>;
  readonly notificationsDeadLettered: Counter<'channel'>;
  readonly outboxDepth: Gauge;
  readonly outboxOldestPendingAge: Gauge;
  readonly incidentsOpened: Counter<'severity'>;
  readonly incidentsActive: Gauge<'severity' | 'status'>;
  readonly runbookRuns: Counter<'runbook' | 'outcome'>;
  readonly runbookStepDuration: Histogram<'runbook' | 'action' | 'status'>;
  readonly runbookRecoveries: Counter<'runbook'>;
  readonly runbookRunsActive: Gauge;
  readonly runbookProgress: Gauge<'runbook' | 'run' | 'step'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly httpRequestDuration: Histogram<'route'>;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.processMetrics !== false) collectProcessMetrics(this.registry);

    this.buildInfo = new Gauge({ name: 'pipewarden_build_info', help: 'Always 1; labelled with the running version.', labelNames: ['version'], registers });
    this.buildInfo.set({ version: options.version ?? PIPEWARDEN_VERSION }, 1);

    this.jobRuns = new Counter({
      name: 'pipewarden_job_runs_total',
      help: 'Scheduled job runs by outcome (skipped: another run still in flight or another replica took the tick).',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({ name: 'pipewarden_job_duration_seconds', help: 'Duration of job runs.', labelNames: ['job'], buckets: LONG_DURATION_BUCKETS, registers });
    this.loopErrors = new Counter({ name: 'pipewarden_loop_errors_total', help: 'Errors caught by background loops (the loop logged it and went on).', labelNames: ['loop'], registers });

    this.sweepDuration = new Histogram({ name: 'pipewarden_sweep_duration_seconds', help: 'Duration of one warehouse\'s part of a sweep.', labelNames: ['warehouse'], buckets: LONG_DURATION_BUCKETS, registers });
    this.tablesMonitored = new Gauge({ name: 'pipewarden_tables_monitored', help: 'Tables selected by monitors in the last sweep.', labelNames: ['warehouse'], registers });
    this.findings = new Gauge({ name: 'pipewarden_findings', help: 'Current findings (latest sweep, profile and pipelines runs) by check kind and status.', labelNames: ['kind', 'status'], registers });
    this.warehouseUp = new Gauge({ name: 'pipewarden_warehouse_up', help: '1 when the warehouse answered the last readiness probe or sweep, else 0.', labelNames: ['warehouse'], registers });
    this.stateDbUp = new Gauge({ name: 'pipewarden_state_db_up', help: '1 when the state database answered the last readiness probe, else 0.', registers });
    this.lastSweepTimestamp = new Gauge({ name: 'pipewarden_last_sweep_timestamp_seconds', help: 'Unix time of the last completed sweep of the warehouse.', labelNames: ['warehouse'], registers });
    this.pipelineSourceUp = new Gauge({ name: 'pipewarden_pipeline_source_up', help: '1 when the pipeline source (a dbt target, an Airflow or SQLMesh database) was read at the last pipelines run, else 0.', labelNames: ['kind', 'source'], registers });
    this.collectionErrors = new Counter({ name: 'pipewarden_collection_errors_total', help: 'Reads of a pipeline source that failed, by source kind (dbt, airflow, sqlmesh).', labelNames: ['source'], registers });

    this.notificationsDelivered = new Counter({ name: 'pipewarden_notifications_delivered_total', help: 'Outbox items delivered, by channel.', labelNames: ['channel'], registers });
    this.notificationsRetried = new Counter({ name: 'pipewarden_notifications_retried_total', help: 'Delivery attempts that will be retried (429, 5xx, network), by channel.', labelNames: ['channel'], registers });
    this.notificationsDeadLettered = new Counter({
      name: 'pipewarden_notifications_dead_lettered_total',
      help: 'Outbox items given up on (a 4xx other than 429, or a bad payload), by channel.',
      labelNames: ['channel'],
      registers,
    });
    this.outboxDepth = new Gauge({ name: 'pipewarden_outbox_depth', help: 'Notifications waiting for delivery.', registers });
    this.outboxOldestPendingAge = new Gauge({ name: 'pipewarden_outbox_oldest_pending_age_seconds', help: 'Age of the oldest notification waiting for delivery (0 when none).', registers });
    this.incidentsOpened = new Counter({ name: 'pipewarden_incidents_opened_total', help: 'Incidents opened, by severity.', labelNames: ['severity'], registers });
    this.incidentsActive = new Gauge({
      name: 'pipewarden_incidents_active',
      help: 'Incidents not yet resolved (silenced ones included), by severity and status (open, acknowledged).',
      labelNames: ['severity', 'status'],
      registers,
    });

    this.runbookRuns = new Counter({
      name: 'pipewarden_runbook_runs_total',
      help: 'Runbook runs ended, by runbook and outcome (succeeded, failed, escalated, cancelled).',
      labelNames: ['runbook', 'outcome'],
      registers,
    });
    this.runbookStepDuration = new Histogram({
      name: 'pipewarden_runbook_step_duration_seconds',
      help: 'Duration of runbook step attempts, by runbook, action and status.',
      labelNames: ['runbook', 'action', 'status'],
      buckets: LONG_DURATION_BUCKETS,
      registers,
    });
    this.runbookRecoveries = new Counter({
      name: 'pipewarden_runbook_recoveries_total',
      help: 'Incidents a runbook recovered without paging anyone, by runbook.',
      labelNames: ['runbook'],
      registers,
    });
    this.runbookRunsActive = new Gauge({ name: 'pipewarden_runbook_runs_active', help: 'Runbook runs this daemon is executing now.', registers });
    this.runbookProgress = new Gauge({
      name: 'pipewarden_runbook_progress_ratio',
      help: 'Progress of a running backfill step (0–1), by runbook, run and step; removed when the step ends.',
      labelNames: ['runbook', 'run', 'step'],
      registers,
    });
    this.httpRequests = new Counter({ name: 'pipewarden_http_requests_total', help: 'HTTP requests by route and status code.', labelNames: ['route', 'status'], registers });
    this.httpRequestDuration = new Histogram({ name: 'pipewarden_http_request_duration_seconds', help: 'HTTP request handling time.', labelNames: ['route'], buckets: HTTP_DURATION_BUCKETS, registers });
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}
