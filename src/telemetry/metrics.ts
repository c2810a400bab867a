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
  /** At most this many assets get per-asset series (config `telemetry.max_asset_series`). */
  maxAssetSeries?: number;
}

/** The default of `telemetry.max_asset_series`. */
export const DEFAULT_MAX_ASSET_SERIES = 2000;

// Jobs and sweeps run from under a second to many minutes against a slow warehouse.
const LONG_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A Slack or PagerDuty call: tens of milliseconds normally, up to the client's timeout when slow.
const DELIVERY_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Time to resolve an incident: minutes (a runbook or a late load) to days (an owner away).
const RESOLUTION_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800];

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
  readonly profileDuration: Histogram<'warehouse'>;
  readonly warehouseStatements: Counter<'warehouse' | 'job'>;
  readonly tablesMonitored: Gauge<'warehouse'>;
  readonly findings: Gauge<'kind' | 'status'>;
  readonly warehouseUp: Gauge<'warehouse'>;
  readonly stateDbUp: Gauge;
  readonly lastSweepTimestamp: Gauge<'warehouse'>;
  readonly pipelineSourceUp: Gauge<'kind' | 'source'>;
  readonly collectionErrors: Counter<'source'>;
  /** At most this many assets get the per-asset series below; the worst are kept. */
  readonly maxAssetSeries: number;
  readonly assetFreshness: Gauge<'asset'>;
  readonly assetFreshnessLateness: Gauge<'asset'>;
  readonly assetRows: Gauge<'asset'>;
  readonly assetRowsExpectedLow: Gauge<'asset'>;
  readonly assetRowsExpectedHigh: Gauge<'asset'>;
  readonly checkStatus: Gauge<'asset' | 'kind'>;
  readonly anomalyScore: Gauge<'asset' | 'kind'>;
  readonly assetSeriesDropped: Gauge;
  readonly notificationsDelivered: Counter<'channel'>;
  readonly notificationsRetried: Counter<'channel'>;
  readonly notificationsDeadLettered: Counter<'channel'>;
  readonly notificationDeliveryDuration: Histogram<'channel'>;
  readonly pages: Counter<'severity'>;
  readonly outboxDepth: Gauge;
  readonly outboxOldestPendingAge: Gauge;
  readonly incidentsOpened: Counter<'severity'>;
  readonly incidentsActive: Gauge<'severity' | 'status'>;
  readonly incidentResolution: Histogram<'severity'>;
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
    this.profileDuration = new Histogram({ name: 'pipewarden_profile_duration_seconds', help: 'Duration of one warehouse\'s part of a profile run.', labelNames: ['warehouse'], buckets: LONG_DURATION_BUCKETS, registers });
    this.warehouseStatements = new Counter({
      name: 'pipewarden_warehouse_statements_total',
      help: 'SQL statements sent to the warehouse, by warehouse and job (sweep, profile, other: readiness probes, check, runbooks).',
      labelNames: ['warehouse', 'job'],
      registers,
    });
    this.tablesMonitored = new Gauge({ name: 'pipewarden_tables_monitored', help: 'Tables selected by monitors in the last sweep.', labelNames: ['warehouse'], registers });
    this.findings = new Gauge({ name: 'pipewarden_findings', help: 'Current findings (latest sweep, profile and pipelines runs) by check kind and status.', labelNames: ['kind', 'status'], registers });
    this.warehouseUp = new Gauge({ name: 'pipewarden_warehouse_up', help: '1 when the warehouse answered the last readiness probe or sweep, else 0.', labelNames: ['warehouse'], registers });
    this.stateDbUp = new Gauge({ name: 'pipewarden_state_db_up', help: '1 when the state database answered the last readiness probe, else 0.', registers });
    this.lastSweepTimestamp = new Gauge({ name: 'pipewarden_last_sweep_timestamp_seconds', help: 'Unix time of the last completed sweep of the warehouse.', labelNames: ['warehouse'], registers });
    this.pipelineSourceUp = new Gauge({ name: 'pipewarden_pipeline_source_up', help: '1 when the pipeline source (a dbt target, an Airflow or SQLMesh database) was read at the last pipelines run, else 0.', labelNames: ['kind', 'source'], registers });
    this.collectionErrors = new Counter({
      name: 'pipewarden_collection_errors_total',
      help: 'Reads that failed, by source kind: a pipeline source (dbt, airflow, sqlmesh) or a warehouse read of the sweep or profile (warehouse).',
      labelNames: ['source'],
      registers,
    });

    // Per-asset series: written only by recordFindingMetrics (collect/finding-metrics.ts), which
    // rebuilds them from every job's latest findings, keeps the worst assets under the cap and
    // drops assets that vanished.
    this.maxAssetSeries = options.maxAssetSeries ?? DEFAULT_MAX_ASSET_SERIES;
    const perAsset = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.assetFreshness = perAsset('pipewarden_asset_freshness_seconds', 'Seconds since the asset last changed, as its latest freshness check measured it.', ['asset']);
    this.assetFreshnessLateness = perAsset(
      'pipewarden_asset_freshness_lateness_seconds',
      'Seconds the asset is past the age its freshness check expects at most (0 when on time).',
      ['asset'],
    );
    this.assetRows = perAsset('pipewarden_asset_rows', 'Rows in the last bucket the asset\'s volume check judged (the whole table when it has no time column).', ['asset']);
    this.assetRowsExpectedLow = perAsset('pipewarden_asset_rows_expected_low', 'Low end of the rows the volume check expected in that bucket.', ['asset']);
    this.assetRowsExpectedHigh = perAsset('pipewarden_asset_rows_expected_high', 'High end of the rows the volume check expected in that bucket.', ['asset']);
    this.checkStatus = perAsset(
      'pipewarden_check_status',
      'Worst latest status of the asset\'s checks of a kind: 0 ok, 1 warn, 2 fail, 3 error (could not measure).',
      ['asset', 'kind'],
    );
    this.anomalyScore = perAsset('pipewarden_anomaly_score', 'Highest anomaly score among the asset\'s latest findings of a kind (checks that score).', ['asset', 'kind']);
    this.assetSeriesDropped = new Gauge({
      name: 'pipewarden_asset_series_dropped',
      help: 'Assets left without per-asset series because telemetry.max_asset_series was reached (the healthiest are left out).',
      registers,
    });

    this.notificationsDelivered = new Counter({ name: 'pipewarden_notifications_delivered_total', help: 'Outbox items delivered, by channel.', labelNames: ['channel'], registers });
    this.notificationsRetried = new Counter({ name: 'pipewarden_notifications_retried_total', help: 'Delivery attempts that will be retried (429, 5xx, network), by channel.', labelNames: ['channel'], registers });
    this.notificationsDeadLettered = new Counter({
      name: 'pipewarden_notifications_dead_lettered_total',
      help: 'Outbox items given up on (a 4xx other than 429, or a bad payload), by channel.',
      labelNames: ['channel'],
      registers,
    });
    this.notificationDeliveryDuration = new Histogram({
      name: 'pipewarden_notification_delivery_duration_seconds',
      help: 'Time one delivery attempt took (the call to Slack, PagerDuty or the console), whatever its outcome, by channel.',
      labelNames: ['channel'],
      buckets: DELIVERY_DURATION_BUCKETS,
      registers,
    });
    this.pages = new Counter({
      name: 'pipewarden_pages_total',
      help: 'PagerDuty trigger events delivered, by incident severity (compare with pipewarden_runbook_recoveries_total).',
      labelNames: ['severity'],
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
    this.incidentResolution = new Histogram({
      name: 'pipewarden_incident_resolution_seconds',
      help: 'Time from opening to resolution of incidents pipewarden resolved when their check passed, by severity (MTTR).',
      labelNames: ['severity'],
      buckets: RESOLUTION_BUCKETS,
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
