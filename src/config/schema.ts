// The one config file, as a zod schema. Everything a person can write in pipewarden.yaml is
// defined here, with the defaults and descriptions the README's configuration reference is
// generated from (`npm run docs:config`), so the reference cannot drift from the code.
// Objects are strict: an unknown key is an error (with a "did you mean"), never silently ignored.

import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { validate as isValidCron } from 'node-cron';
import { duration, globList, identifierName } from './schema-parts.ts';
import { airflowSchema } from '../collect/airflow/airflow-config.ts';
import { dbtTargetsSchema } from '../collect/dbt/dbt-target-config.ts';
import { sqlmeshSchema } from '../collect/sqlmesh/sqlmesh-config.ts';

export { duration };

const cron = z
  .string({ error: 'expected a cron expression like "*/5 * * * *"' })
  .refine((text) => isValidCron(text), { error: (issue) => `expected a cron expression like "*/5 * * * *", got "${String(issue.input)}"` });


export const warehouseSchema = z.strictObject({
  type: z.literal('postgres').describe('Warehouse engine. Only `postgres` for now.'),
  url: z.string().min(1).describe('Connection URL, e.g. `${WAREHOUSE_URL}`. Use a read-only role.'),
  write_url: z
    .string()
    .min(1)
    .optional()
    .describe('Connection URL with write rights, used only by runbook `sql`, `publish` and `rollback` steps. Without it those steps fail with a clear error.'),
  schemas: z.array(z.string()).optional().describe('Schemas to catalog. Default: every schema except system ones.'),
  max_connections: z.number().int().min(1).max(20).default(2).describe('Pool size cap; this is someone\'s production database.'),
  statement_timeout: duration.prefault('30s').describe('Every statement is cancelled after this long.'),
  connect_timeout: duration.prefault('10s').describe('Give up connecting after this long.'),
});

export const stateSchema = z.strictObject({
  url: z.string().min(1).optional().describe('State database URL. Omit to run an embedded PostgreSQL under `embedded.dir`.'),
  schema: identifierName.default('pipewarden').describe('Postgres schema holding pipewarden\'s tables.'),
  embedded: z
    .strictObject({
      dir: z.string().default('./.pipewarden').describe('Data folder of the embedded PostgreSQL (kept across restarts).'),
      port: z.number().int().min(1024).max(65535).default(54329).describe('Port the embedded PostgreSQL listens on (loopback only).'),
    })
    .prefault({})
    .describe('Embedded PostgreSQL, used when `url` is omitted.'),
});

export const scheduleSchema = z.strictObject({
  sweep: cron.default('*/5 * * * *').describe('Metadata sweep cadence (cron).'),
  profile: cron.default('15 * * * *').describe('Table profile cadence (cron).'),
  pipelines: cron.default('*/2 * * * *').describe('How often dbt artifacts, Airflow and SQLMesh state are read (cron). Only runs when one of `dbt`, `airflow`, `sqlmesh` is set.'),
  timezone: z.string().optional().describe('IANA time zone for the cron schedules. Default: the process\'s.'),
});

export const serverSchema = z.strictObject({
  host: z.string().default('0.0.0.0').describe('Address the HTTP server binds.'),
  port: z.number().int().min(0).max(65535).default(9464).describe('Port of /healthz, /readyz, /metrics and the Slack and PagerDuty endpoints.'),
});

const sensitivity = z
  .enum(['low', 'medium', 'high'])
  .default('medium')
  .describe('How far from the baseline a value must be to count: `low` alerts least, `high` most.');

export const freshnessSchema = z.strictObject({
  column: z.string().optional().describe('Timestamp column; without it freshness comes from write counters.'),
  warn_after: duration.optional().describe('Warn when the newest data is older than this.'),
  error_after: duration.optional().describe('Fail when the newest data is older than this.'),
  sensitivity: sensitivity.describe('Without thresholds: how much later than its learned cadence an update may be.'),
});

const volumeSchema = z.strictObject({
  column: z
    .string()
    .optional()
    .describe('Timestamp column rows are bucketed by. Without it, the table\'s total row count (catalog estimate, each sweep) is checked: for tables rebuilt on every run.'),
  bucket: duration.prefault('1d').describe('Bucket size, e.g. "1h" or "1d".'),
  sensitivity,
  direction: z.enum(['drop', 'spike', 'both']).default('both').describe('Which deviations count: fewer rows, more rows, or both.'),
  min_absolute_change: z.number().min(0).default(10).describe('Ignore deviations smaller than this many rows (tiny tables do not page).'),
  min_relative_change: z.number().min(0).default(0.2).describe('Ignore deviations smaller than this share of the expected value (0.2 = 20 %).'),
  seasonality: z
    .enum(['auto', 'none', 'hour_of_day', 'day_of_week', 'hour_of_week'])
    .default('auto')
    .describe('Which past buckets a bucket is compared with; `auto` picks what the history shows.'),
});

const distributionSchema = z.strictObject({
  column: z.string().describe('Timestamp column rows are bucketed by.'),
  bucket: duration.prefault('1d').describe('Bucket size.'),
  columns: z.array(z.string()).min(1).describe('Columns whose distribution is profiled.'),
  sensitivity,
  min_absolute_change: z.number().min(0).default(0.02).describe('Ignore metric deviations smaller than this (e.g. 0.02 of null fraction).'),
});

const pagedSeverities = z.array(z.enum(['warning', 'error', 'critical']));

export const monitorSchema = z.strictObject({
  assets: globList.describe('Asset globs over `warehouse.schema.table`, e.g. `analytics.public.*`.'),
  exclude: z.array(z.string()).default([]).describe('Globs removed from `assets`.'),
  owner: z.string().optional().describe('Owner name from `owners`.'),
  freshness: z.union([z.literal(true), freshnessSchema]).optional().describe('Freshness check settings (`true` for defaults).'),
  volume: volumeSchema.optional().describe('Row-count-per-bucket check settings.'),
  distribution: distributionSchema.optional().describe('Column distribution check settings.'),
  schema: z.boolean().default(false).describe('Watch for column additions, removals and type changes.'),
  page_on: pagedSeverities.optional().describe('Overrides `incidents.page_on` for these assets, e.g. `[warning, critical]` to page on warnings too, `[]` never to page.'),
});

export const profilingSchema = z.strictObject({
  history: duration.prefault('30d').describe('On the first profile of a table, measure this much history from the data itself.'),
  late_window: duration.prefault('2d').describe('Re-measure buckets this recent on every profile (late-arriving data).'),
  quantiles: z.array(z.number().gt(0).lt(1)).default([0.5, 0.95]).describe('Quantiles profiled for numeric columns.'),
  top_k: z.number().int().min(1).max(100).default(20).describe('Most frequent values kept for low-cardinality columns.'),
});

export const retentionSchema = z.strictObject({
  observations: duration.prefault('400d').describe('Keep observations this long.'),
  findings: duration.prefault('90d').describe('Keep findings this long.'),
});

export const ownerSchema = z.strictObject({
  slack: z.string().optional().describe('Slack channel, e.g. "#inventory-data".'),
  pagerduty: z.string().optional().describe('PagerDuty Events v2 routing key.'),
});

export const notificationsSchema = z.strictObject({
  console: z.boolean().default(true).describe('Print notifications to the log (always on when no Slack or PagerDuty is set).'),
  default_owner: z.string().optional().describe('Owner for assets no monitor assigns.'),
  grafana_url: z.url().optional().describe('Base URL for links back to Grafana.'),
});

export const slackSchema = z.strictObject({
  bot_token: z.string().optional().describe('Bot token (xoxb-…).'),
  signing_secret: z.string().optional().describe('Signing secret for request verification.'),
  app_token: z.string().optional().describe('App-level token (xapp-…) to use Socket Mode instead of the HTTP endpoints.'),
  command: z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, 'expected a slash command such as "/pipewarden"')
    .default('/pipewarden')
    .describe('The slash command, as created in the Slack app (see slack/manifest.yaml).'),
  api_url: z.url().optional().describe('Slack Web API base URL; only for a proxy in front of Slack. Default: https://slack.com/api/.'),
  roles: z
    .record(z.string().regex(/^[UWS][A-Z0-9]+$/, 'expected a Slack user id (U…, W…) or user-group id (S…)'), z.enum(['viewer', 'responder', 'admin']))
    .default({})
    .describe('Role by Slack user id (U…/W…) or user-group id (S…): viewer reads; responder also acknowledges, resolves, silences, approves and runs runbooks; admin may do everything. A person gets the highest role any of their ids grants; user groups need the usergroups:read scope.'),
  default_role: z
    .enum(['viewer', 'responder', 'admin', 'none'])
    .default('viewer')
    .describe('The role of Slack users not listed in `roles` (`none`: they can do nothing from Slack).'),
});

const SEVERITIES = ['warning', 'error', 'critical'] as const;

export const dbtProjectSchema = z.strictObject({
  project_dir: z.string().describe('The dbt project folder (where dbt_project.yml is).'),
  profiles_dir: z.string().optional().describe('Folder of profiles.yml. Default: dbt\'s own lookup.'),
  executable: z.string().default('dbt').describe('The dbt executable, found on PATH unless a path is given.'),
  target: z.string().optional().describe('dbt target to run against (`--target`).'),
});

export const runbooksSchema = z.strictObject({
  folder: z.string().default('./runbooks').describe('Folder of runbook YAML files (`*.yaml`, `*.yml`).'),
  recover_first: z
    .array(z.enum(SEVERITIES))
    .default(['warning', 'error', 'critical'])
    .describe('Severities whose incidents run a matching runbook before paging; others page at once and the page is updated as the run goes.'),
  deadline: duration.prefault('30m').describe('Page anyway when a recovery run has not ended this long after the incident opened.'),
  concurrency: z.number().int().min(1).max(32).default(2).describe('Runs one daemon executes at the same time.'),
  lease: duration.prefault('30s').describe('A run\'s claim lapses this long after its daemon stops heartbeating; another daemon then resumes it.'),
  vars: z.record(z.string(), z.string()).default({}).describe('Values steps use as `${vars.NAME}`: what differs between deployments (hosts, paths), kept out of the runbooks.'),
  secrets: z.record(z.string(), z.string()).default({}).describe('Values steps use as `${secrets.NAME}` (API tokens); never logged or recorded.'),
  dbt: dbtProjectSchema.optional().describe('The dbt project `dbt` steps run in.'),
});

export const pagerdutySchema = z.strictObject({
  routing_key: z.string().optional().describe('Default Events v2 routing key.'),
  events_host: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected a host name (optionally :port), e.g. "events.eu.pagerduty.com"')
    .default('events.pagerduty.com')
    .describe('Events API host: `events.eu.pagerduty.com` for EU accounts.'),
  ca_file: z.string().optional().describe('PEM file of extra CA certificates to trust for the events host (a corporate TLS proxy).'),
  webhook_secrets: z.array(z.string()).default([]).describe('Webhook v3 signing secrets (several during rotation).'),
});

const evaluations = (fallback: number, what: string) => z.number().int().min(1).max(100).default(fallback).describe(what);

const maintenanceWindowSchema = z.strictObject({
  assets: z.array(z.string()).default([]).describe('Asset globs the window covers; empty: every asset.'),
  checks: z.array(z.string()).default([]).describe('Check id globs (e.g. "volume:*"); empty: every check.'),
  cron: z
    .string()
    .refine((text) => parsesAsCron(text), { error: (issue) => `expected a cron expression like "0 2 * * SUN" (when each window starts), got "${String(issue.input)}"` })
    .describe('When each window starts (cron, in schedule.timezone).'),
  duration: duration.describe('How long each window lasts, e.g. "2h".'),
  reason: z.string().min(1).describe('Shown in the timeline of every incident it keeps quiet.'),
});

function parsesAsCron(text: string): boolean {
  try {
    CronExpressionParser.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const incidentsSchema = z.strictObject({
  pending: z
    .strictObject({
      fail: evaluations(1, 'Consecutive failing evaluations before an incident opens as critical.'),
      warn: evaluations(2, 'Consecutive warning (or failing) evaluations before an incident opens as a warning.'),
      error: evaluations(3, 'Consecutive could-not-measure evaluations before an incident opens.'),
    })
    .prefault({})
    .describe('The pending period (Prometheus `for`), in evaluations of the check.'),
  pending_by_kind: z
    .partialRecord(
      z.enum(['freshness', 'volume', 'distribution', 'schema', 'run']),
      z.strictObject({
        fail: z.number().int().min(1).max(100).optional().describe('Overrides pending.fail for this kind.'),
        warn: z.number().int().min(1).max(100).optional().describe('Overrides pending.warn for this kind.'),
        error: z.number().int().min(1).max(100).optional().describe('Overrides pending.error for this kind.'),
      }),
    )
    .default({})
    .describe('Pending periods per check kind, e.g. `{ volume: { fail: 2 } }` to wait for a second failing hour.'),
  resolve_after: evaluations(2, 'Consecutive passing evaluations that resolve an incident.'),
  flapping: z
    .strictObject({
      window: duration.prefault('1h').describe('How far back opens and resolves are counted.'),
      max_changes: evaluations(4, 'More opens and resolves than this within the window: one flapping notice, then quiet.'),
    })
    .prefault({})
    .describe('Flap detection.'),
  renotify: duration.optional().describe('Remind the owner of an unacknowledged incident this often, e.g. "4h"; unset: never.'),
  page_on: pagedSeverities
    .default(['critical'])
    .describe('Severities that page PagerDuty (fail → critical, could not measure → error, warn → warning); the others go to Slack only.'),
  maintenance: z.array(maintenanceWindowSchema).default([]).describe('Recurring maintenance windows: silences on a cron schedule.'),
});

export const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Log level.'),
});

export const telemetrySchema = z.strictObject({
  // The same default as DEFAULT_MAX_ASSET_SERIES in telemetry/metrics.ts (not imported: the config stays free of prom-client).
  max_asset_series: z
    .number()
    .int()
    .min(0)
    .default(2000)
    .describe(
      'At most this many assets get per-asset metrics (freshness, rows, check status, anomaly score); beyond it the worst assets are kept and `pipewarden_asset_series_dropped` counts the rest. Caps Prometheus series on very large estates.',
    ),
});

export const configSchema = z.strictObject({
  warehouses: z
    .record(identifierName, warehouseSchema)
    .refine((record) => Object.keys(record).length > 0, 'expected at least one warehouse')
    .describe('Warehouses to watch, by name. The name is the first part of asset keys.'),
  state: stateSchema.prefault({}).describe('Where pipewarden keeps its own state.'),
  schedule: scheduleSchema.prefault({}).describe('When background work runs.'),
  server: serverSchema.prefault({}).describe('The one HTTP server.'),
  shutdown_timeout: duration.prefault('30s').describe('How long in-flight work may finish after SIGTERM.'),
  monitors: z.array(monitorSchema).default([]).describe('What to watch and how.'),
  profiling: profilingSchema.prefault({}).describe('Table profiles: how much history, which extra metrics.'),
  retention: retentionSchema.prefault({}).describe('How long pipewarden keeps what it measured.'),
  owners: z.record(identifierName, ownerSchema).default({}).describe('Who answers for assets, and where to reach them.'),
  notifications: notificationsSchema.prefault({}).describe('Notification settings.'),
  slack: slackSchema.optional().describe('Slack app credentials.'),
  pagerduty: pagerdutySchema.optional().describe('PagerDuty settings.'),
  incidents: incidentsSchema.prefault({}).describe('When a failing check becomes an incident, and who is told.'),
  runbooks: runbooksSchema.prefault({}).describe('Runbooks: where they are, how they run, when pipewarden pages instead.'),
  dbt: dbtTargetsSchema,
  airflow: airflowSchema,
  sqlmesh: sqlmeshSchema,
  logging: loggingSchema.prefault({}).describe('Logging.'),
  telemetry: telemetrySchema.prefault({}).describe('Metrics pipewarden exposes on /metrics.'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type WarehouseConfig = z.output<typeof warehouseSchema>;
export type MonitorConfig = z.output<typeof monitorSchema>;
export type StateConfig = z.output<typeof stateSchema>;
export type FreshnessConfig = z.output<typeof freshnessSchema>;
export type VolumeConfig = z.output<typeof volumeSchema>;
export type DistributionConfig = z.output<typeof distributionSchema>;
export type IncidentsConfig = z.output<typeof incidentsSchema>;
export type MaintenanceWindowConfig = z.output<typeof maintenanceWindowSchema>;
export type ProfilingConfig = z.output<typeof profilingSchema>;

/** A monitor's freshness settings, with `freshness: true` read as all defaults. */
export function freshnessSettings(monitor: MonitorConfig): FreshnessConfig | undefined {
  if (monitor.freshness === undefined) return undefined;
  return monitor.freshness === true ? freshnessSchema.parse({}) : monitor.freshness;
}
