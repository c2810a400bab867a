// The composition root of the daemon: opens the state database and the warehouses, builds the
// HTTP server and the scheduler with its jobs, and takes them down again in order. Only this
// file (and CLI commands) wire adapters together.
//
// Start-up is strict about the state database (without it nothing can be recorded, so start
// fails fast) and lenient about warehouses (an outage there is exactly what pipewarden must live
// through and report: it starts, /readyz says which warehouse is down, sweeps record errors).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { runProfile } from './collect/profile.ts';
import { runSweep } from './collect/sweep.ts';
import { applyRetention } from './store/retention.ts';
import { applyFindings } from './incidents/apply-findings.ts';
import { storeManifestLineage } from './lineage/store-manifest-lineage.ts';
import { syncPagerDutyChange } from './incidents/pagerduty-sync.ts';
import { mountPagerDutyWebhook } from './http/pagerduty-webhook-route.ts';
import { createSlackApp, slackAppWanted, type SlackApp } from './chat/slack-app.ts';
import { openChannels, type Channels } from './notify/channels.ts';
import { OutboxLoop } from './notify/outbox-loop.ts';
import { countActiveIncidents } from './store/incident-records.ts';
import type { Environment } from './config/environment.ts';
import type { Config } from './config/schema.ts';
import type { Finding } from './types.ts';
import { errorMessage, PipewardenError } from './errors.ts';
import { mountHealthRoutes } from './http/health-routes.ts';
import type { ReadinessReport } from './http/readiness.ts';
import { sharedReadinessCheck } from './http/readiness.ts';
import { HttpServer } from './http/server.ts';
import type { Runtime } from './runtime.ts';
import { openRuntime } from './runtime.ts';
import type { Job, StopOutcome } from './scheduler/scheduler.ts';
import { LeaseJobLock } from './scheduler/lease-job-lock.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { LeaseRunCoordinator } from './store/run-coordinator.ts';
import type { Logger } from './telemetry/logger.ts';
import { flushLogger } from './telemetry/logger.ts';
import { Metrics } from './telemetry/metrics.ts';
import { openRunbookRuntime, type RunbookRuntime } from './runbooks/runbook-runtime.ts';
import type { LoadedRunbook } from './runbooks/loaded-runbook.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { startTracing } from './telemetry/tracing.ts';

export interface DaemonOptions {
  config: Config;
  env: Environment;
  logger: Logger;
  now?: () => Date;
}

export interface RunningDaemon {
  httpUrl: string;
  metrics: Metrics;
  /** Graceful stop; idempotent. 'aborted' when in-flight work had to be cut at the deadline. */
  stop(reason: string): Promise<StopOutcome>;
  /** Settles when a stop (from any caller) has completed. */
  stopped: Promise<StopOutcome>;
}

/** Each dependency gets this long to answer a readiness probe. */
const READINESS_TIMEOUT_MS = 3_000;
/** Share of shutdown_timeout kept for aborted runs to return, capped. */
const ABORT_GRACE_SHARE = 0.2;
const MAX_ABORT_GRACE_MS = 5_000;
/** Retention has no setting of its own: hourly batched deletes keep each run short. */
const RETENTION_CRON = '45 * * * *';

/**
 * The periodic jobs. This is the extension point for later stages: the profile job, the incident
 * and runbook loops each add one entry here, with their cron from `config.schedule`.
 */
export function scheduledJobs(runtime: Runtime, outbox: OutboxLoop, runbooks: RunbookRuntime): Job[] {
  // Sweep and profile both judge checks; their findings then go through the incident lifecycle,
  // whose notifications the outbox delivers.
  const judging = (name: string, cron: string, evaluate: (signal: AbortSignal) => Promise<{ findings: readonly Finding[] }>): Job => ({
    name,
    cron,
    run: async (signal) => {
      const result = await evaluate(signal);
      const incidents = await applyFindings(runtime.state.pool, runtime.config, result.findings, runtime.now(), runbooks.recovery);
      for (const [severity, count] of Object.entries(incidents.openedBySeverity)) runtime.metrics.incidentsOpened.inc({ severity }, count);
      for (const { severity, seconds } of incidents.resolvedAfter) runtime.metrics.incidentResolution.observe({ severity }, seconds);
      if (incidents.queued > 0) outbox.wake();
      if (incidents.runsStarted > 0) runbooks.executor.wake();
      await recordActiveIncidents(runtime);
      return { ...result, incidents };
    },
  });
  const pipelines = runtime.pipelines;
  return [
    // Each loads the dbt manifests first (cheap when unchanged), so the monitors dbt derives exist
    // from the first sweep on, even on a replica whose pipelines tick another one runs.
    judging('sweep', runtime.config.schedule.sweep, async (signal) => runSweep(await runtime.loadSweepContext(), signal)),
    judging('profile', runtime.config.schedule.profile, async (signal) => runProfile(await runtime.loadSweepContext(), signal)),
    ...(pipelines === undefined
      ? []
      : [
          judging('pipelines', runtime.config.schedule.pipelines, async (signal) => {
            const result = await pipelines.collect(signal);
            await storeManifestLineage(runtime.state.pool, runtime.logger, result.changedManifests, runtime.now());
            return result;
          }),
        ]),
    {
      name: 'retention',
      cron: RETENTION_CRON,
      run: (signal) => {
        const { observations, findings } = runtime.config.retention;
        return applyRetention(runtime.state.pool, { observationsMs: observations, findingsMs: findings, now: runtime.now() }, signal);
      },
    },
  ];
}

/** pipewarden_incidents_active from the state DB, so it counts every replica's and person's changes. */
async function recordActiveIncidents(runtime: Runtime): Promise<void> {
  const rows = await countActiveIncidents(runtime.state.pool);
  runtime.metrics.incidentsActive.reset();
  for (const { severity, status, count } of rows) runtime.metrics.incidentsActive.set({ severity, status }, count);
}

/**
 * Everything the HTTP server answers. The extension point for the endpoints of later stages:
 * Slack (`/slack/events`, `/slack/commands`) and PagerDuty (`/webhooks/pagerduty`) mount here,
 * their handlers reading `request.rawBody` to check signatures. Returns the Slack app when one is
 * configured (its routes mounted here in HTTP mode; in Socket Mode it has none and is started later).
 */
export function mountRoutes(
  http: HttpServer,
  runtime: Runtime,
  readiness: () => Promise<ReadinessReport>,
  runbooks: () => readonly LoadedRunbook[] | undefined = () => undefined,
): SlackApp | undefined {
  mountHealthRoutes(http, { metrics: runtime.metrics, readiness });
  const { config, logger } = runtime;
  const slack = slackAppWanted(config.slack) ? createSlackApp({ config, pool: runtime.state.pool, logger, now: runtime.now, runbooks }) : undefined;
  slack?.mount(http);
  if (config.pagerduty !== undefined) {
    mountPagerDutyWebhook(http, {
      secrets: config.pagerduty.webhook_secrets,
      logger,
      onEvent: async (event) => {
        const change = { eventId: event.id, type: event.type, dedupKey: event.incident.incidentKey ?? undefined, agent: event.agent?.summary ?? event.agent?.id };
        const outcome = await syncPagerDutyChange(runtime.state.pool, config, change, runtime.now());
        logger.info({ event: event.id, type: event.type, outcome }, `PagerDuty ${event.type}: ${outcome}`);
      },
    });
  }
  return slack;
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = options;
  const metrics = new Metrics({ maxAssetSeries: config.telemetry.max_asset_series });
  const tracing = await startTracing(options.env, { registry: metrics.registry });
  let runtime: Runtime;
  try {
    runtime = await openRuntime({ config, logger, metrics, ...(options.now ? { now: options.now } : {}) });
  } catch (error) {
    await tracing.shutdown();
    throw error;
  }
  metrics.stateDbUp.set(1);
  const readiness = sharedReadinessCheck({ state: runtime.state.pool, warehouses: runtime.warehouses, metrics, timeoutMs: READINESS_TIMEOUT_MS });
  const http = new HttpServer({ host: config.server.host, port: config.server.port, logger, metrics });
  // The Slack app mounts with the routes, before the runbooks load; `runbooks` reads them once they have.
  const loaded: { runbooks?: readonly LoadedRunbook[] } = {};
  const slack = mountRoutes(http, runtime, readiness, () => loaded.runbooks);
  let channels: Channels;
  try {
    channels = await openChannels(config, logger, { pool: runtime.state.pool });
  } catch (error) {
    await runtime.close();
    await tracing.shutdown();
    throw error;
  }
  const outbox = new OutboxLoop({ pool: runtime.state.pool, deliverers: channels.deliverers, logger, metrics, now: runtime.now });
  const holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  let runbooks: RunbookRuntime;
  try {
    runbooks = await openRunbookRuntime(runtime, { owner: holder, wakeOutbox: () => outbox.wake() });
  } catch (error) {
    channels.close();
    await runtime.close();
    await tracing.shutdown();
    throw error;
  }
  loaded.runbooks = runbooks.runbooks;
  const scheduler = createScheduler(runtime, options, outbox, runbooks, holder);
  let httpUrl: string;
  try {
    httpUrl = await http.listen();
  } catch (error) {
    channels.close();
    await runbooks.close();
    await runtime.close();
    await tracing.shutdown();
    throw new PipewardenError('http_listen_failed', `Cannot listen on ${config.server.host}:${config.server.port}: ${errorMessage(error)}. Set server.port to a free port.`, { cause: error });
  }
  logUnavailableWarehouses(logger, await readiness());
  // Socket Mode: a connection failure is logged and retried by Bolt's client, never fatal to start.
  if (slack !== undefined) {
    logger.info({ mode: slack.mode, command: config.slack?.command }, `Slack app ready (${slack.mode === 'socket' ? 'Socket Mode' : 'HTTP endpoints /slack/*'})`);
    void slack.start().catch((error: unknown) => logger.error({ err: error }, `Slack Socket Mode did not connect: ${errorMessage(error)}`));
  }
  outbox.start();
  runbooks.executor.start();
  scheduler.start();
  // The first sweep and profile run now rather than at the next tick, so a newcomer sees findings
  // at once (a table's first profile measures its history, so volume is scored from day one).
  void scheduler.runNow('sweep');
  void scheduler.runNow('profile');
  if (runtime.pipelines !== undefined) void scheduler.runNow('pipelines');
  logger.info(
    { url: httpUrl, warehouses: [...runtime.warehouses.keys()], schedule: config.schedule, runbooks: runbooks.runbooks.length, tracing: tracing.enabled },
    `pipewarden started; serving ${httpUrl}`,
  );
  return daemonHandle({ httpUrl, metrics, logger, config, scheduler, outbox, runbooks, channels, http, runtime, tracing, slack });
}

function createScheduler(runtime: Runtime, options: DaemonOptions, outbox: OutboxLoop, runbooks: RunbookRuntime, holder: string): Scheduler {
  const { config, logger } = options;
  const leaseOptions = {
    pool: runtime.state.pool,
    holder,
    logger,
    ...(options.now ? { now: options.now } : {}),
  };
  // One replica per tick, and one run of a job at a time across replicas.
  const coordinator = new LeaseRunCoordinator(leaseOptions);
  const jobLock = new LeaseJobLock(leaseOptions);
  const abortGraceMs = Math.min(MAX_ABORT_GRACE_MS, Math.round(config.shutdown_timeout * ABORT_GRACE_SHARE));
  const scheduler = new Scheduler({
    logger,
    metrics: runtime.metrics,
    coordinator,
    jobLock,
    abortGraceMs,
    ...(config.schedule.timezone ? { timezone: config.schedule.timezone } : {}),
  });
  for (const job of scheduledJobs(runtime, outbox, runbooks)) scheduler.add(job);
  return scheduler;
}

function logUnavailableWarehouses(logger: Logger, report: ReadinessReport): void {
  for (const [name, status] of Object.entries(report.warehouses)) {
    if (status.status === 'up') continue;
    logger.warn({ warehouse: name, code: status.code }, `warehouse ${name} is not reachable (${status.message}); starting anyway, /readyz reports 503 until it answers`);
  }
}

interface DaemonParts {
  httpUrl: string;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  scheduler: Scheduler;
  outbox: OutboxLoop;
  runbooks: RunbookRuntime;
  channels: Channels;
  http: HttpServer;
  runtime: Runtime;
  tracing: Tracing;
  slack: SlackApp | undefined;
}

function daemonHandle(parts: DaemonParts): RunningDaemon {
  let stopping: Promise<StopOutcome> | undefined;
  let markStopped: (outcome: StopOutcome) => void = () => undefined;
  const stopped = new Promise<StopOutcome>((resolve) => {
    markStopped = resolve;
  });
  return {
    httpUrl: parts.httpUrl,
    metrics: parts.metrics,
    stopped,
    stop(reason) {
      stopping ??= stopDaemon(parts, reason).then((outcome) => {
        markStopped(outcome);
        return outcome;
      });
      return stopping;
    },
  };
}

/**
 * Stop order: take no new work (scheduler and HTTP stop accepting), let in-flight work finish or
 * abort it within shutdown_timeout, then close warehouses and the state database (and its
 * embedded server), export spans, flush logs.
 */
async function stopDaemon(parts: DaemonParts, reason: string): Promise<StopOutcome> {
  const { logger, config } = parts;
  const started = performance.now();
  const timeoutMs = config.shutdown_timeout;
  const abortGraceMs = Math.min(MAX_ABORT_GRACE_MS, Math.round(timeoutMs * ABORT_GRACE_SHARE));
  logger.info({ reason, shutdown_timeout_ms: timeoutMs, running: parts.scheduler.running() }, `pipewarden stopping (${reason})`);
  // Runbook runs in flight get the same deadline; those still running then are interrupted and
  // released, and the next daemon resumes them.
  const [outcome] = await Promise.all([
    parts.scheduler.stop(timeoutMs - abortGraceMs),
    parts.http.close(timeoutMs),
    parts.slack?.stop().catch((error: unknown) => logger.warn({ err: error }, `closing the Slack Socket Mode connection failed: ${errorMessage(error)}`)),
    parts.runbooks.executor.stopAndDrain(new Date(Date.now() + timeoutMs - abortGraceMs)),
  ]);
  logger.info({ outcome }, outcome === 'finished' ? 'in-flight work finished' : 'in-flight work aborted at the shutdown deadline');
  await parts.runbooks.close();
  // After the jobs: what they queued last is delivered if the pass in flight picks it up, and by
  // the next start (or another replica) otherwise.
  await parts.outbox.stop();
  parts.channels.close();
  try {
    await parts.runtime.close();
    logger.info('warehouses and state database closed');
  } catch (error) {
    logger.error({ err: error }, 'closing the state database failed');
  }
  await parts.tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'exporting the last spans failed'));
  logger.info({ reason, outcome, duration_ms: Math.round(performance.now() - started) }, 'pipewarden stopped');
  await flushLogger(logger);
  return outcome;
}

export interface SignalHandlerOptions {
  /** Ends the process; injectable so a test can watch instead of dying. */
  exit?: (code: number) => void;
  /** After a graceful stop, how long the process may take to exit on its own before it is made to. */
  exitGraceMs?: number;
}

const SIGNAL_EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };
const DEFAULT_EXIT_GRACE_MS = 2_000;

/**
 * First SIGTERM/SIGINT: graceful stop. The process then exits 0 when in-flight work finished and
 * 1 when it had to be aborted at the deadline (the exit code itself comes from `pipewarden start`
 * returning; `exit` is only a backstop should a stray handle keep the event loop alive).
 * A second signal exits at once with 128+signal (130 for SIGINT, 143 for SIGTERM), logged as forced.
 * Returns a function that removes the handlers.
 */
export function installSignalHandlers(daemon: RunningDaemon, logger: Logger, options: SignalHandlerOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let received: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      logger.warn({ signal, first: received }, `second signal ${signal}: forced exit without finishing shutdown`);
      void flushLogger(logger).finally(() => exit(SIGNAL_EXIT_CODES[signal] ?? 1));
      return;
    }
    received = signal;
    logger.info({ signal }, `received ${signal}; stopping gracefully (send it again to force)`);
    void daemon.stop(`signal ${signal}`).then((outcome) => {
      setTimeout(() => exit(exitCodeFor(outcome)), options.exitGraceMs ?? DEFAULT_EXIT_GRACE_MS).unref();
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/** 0 when the daemon stopped with all work finished, 1 when work was aborted at the deadline. */
export function exitCodeFor(outcome: StopOutcome): number {
  return outcome === 'finished' ? 0 : 1;
}
