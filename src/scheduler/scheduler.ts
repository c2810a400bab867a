// Runs the daemon's periodic jobs (sweep, later profile and the rest) on cron schedules.
//
// node-cron does the timing. With a RunCoordinator every tick is offered to all replicas and
// exactly one runs it (node-cron's `distributed` mode, keyed by job name and tick time). This
// class adds what node-cron leaves out: one run of a job at a time even across manual `runNow`
// calls, an AbortSignal per run, metrics and logs per run, errors that never escape, and a
// shutdown that waits for in-flight runs up to a deadline and then aborts them.
//
// A failed run needs no back-off of its own: the next attempt is the next tick.

import type { RunCoordinator, ScheduledTask, TaskContext } from 'node-cron';
import { createTask, validate } from 'node-cron';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { JobOutcome, Metrics } from '../telemetry/metrics.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { cronLogger } from './cron-logger.ts';
import type { JobLock, JobLockHandle } from './lease-job-lock.ts';

export interface Job {
  /** Unique per scheduler; also the coordination key shared by replicas. */
  name: string;
  /** Cron expression; a sixth leading field means seconds. */
  cron: string;
  /** Should stop early when `signal` aborts (shutdown past its deadline). */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface SchedulerDependencies {
  logger: Logger;
  metrics: Metrics;
  /** Elects one replica per tick; without it every tick runs here. */
  coordinator?: RunCoordinator;
  /** IANA zone the cron expressions are read in; the process's when omitted. */
  timezone?: string;
  /** Holds a job for the length of a run, so runs never overlap across replicas either. */
  jobLock?: JobLock;
  /** How long an elected tick's lease lasts (node-cron's `distributedLease`). */
  leaseMs?: number;
  /** After aborting runs at the stop deadline, how long to wait for them to return. */
  abortGraceMs?: number;
}

export type StopOutcome = 'finished' | 'aborted';

interface InFlightRun {
  controller: AbortController;
  done: Promise<JobOutcome>;
  /** The job lock, once taken. */
  lock?: JobLockHandle;
}

const DEFAULT_ABORT_GRACE_MS = 5_000;

export class Scheduler {
  private readonly dependencies: SchedulerDependencies;
  private readonly logger: Logger;
  private readonly jobs = new Map<string, Job>();
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Map<string, InFlightRun>();
  private started = false;
  private stopping = false;

  constructor(dependencies: SchedulerDependencies) {
    this.dependencies = dependencies;
    this.logger = dependencies.logger.child({ component: 'scheduler' });
  }

  add(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`a job named ${job.name} is already scheduled`);
    if (!validate(job.cron)) throw new Error(`job ${job.name}: "${job.cron}" is not a cron expression`);
    this.jobs.set(job.name, job);
    if (this.started && !this.stopping) this.schedule(job);
  }

  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    for (const job of this.jobs.values()) this.schedule(job);
  }

  /**
   * Runs a job now, outside its schedule and without asking the coordinator (the daemon's
   * first sweep at start). Skipped when a run of the job is already in flight or during stop.
   */
  runNow(name: string): Promise<JobOutcome> {
    const job = this.jobs.get(name);
    if (!job) return Promise.reject(new Error(`no job named ${name}`));
    return this.execute(job, 'manual');
  }

  /** Names of the jobs running right now. */
  running(): string[] {
    return [...this.inFlight.keys()];
  }

  /**
   * Stops scheduling, waits up to `deadlineMs` for in-flight runs, then aborts their signals and
   * waits `abortGraceMs` more. Resolves 'finished' when every run ended on its own.
   */
  async stop(deadlineMs: number): Promise<StopOutcome> {
    this.stopping = true;
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
    const runs = [...this.inFlight.entries()];
    if (runs.length === 0) return 'finished';
    this.logger.info({ jobs: runs.map(([name]) => name), deadlineMs }, `waiting up to ${deadlineMs} ms for ${runs.length} running job(s)`);
    if (await settlesWithin(runs.map(([, run]) => run.done), deadlineMs)) return 'finished';
    const names = runs.filter(([name]) => this.inFlight.has(name)).map(([name]) => name);
    this.logger.warn({ jobs: names }, `shutdown deadline reached; aborting ${names.join(', ')}`);
    for (const [, run] of runs) run.controller.abort(new Error('pipewarden is shutting down'));
    const grace = this.dependencies.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
    if (!(await settlesWithin(runs.map(([, run]) => run.done), grace))) {
      this.logger.warn({ jobs: this.running() }, `job(s) still running ${grace} ms after abort; leaving them behind`);
      await this.releaseLocksOfLeftBehindRuns();
    }
    return 'aborted';
  }

  /**
   * A run left behind still holds its job lock, and its own release would come after the state
   * database is closed; release now, or a restarted replica waits out the lease before running
   * the job again.
   */
  private async releaseLocksOfLeftBehindRuns(): Promise<void> {
    for (const [name, run] of this.inFlight) {
      await run.lock?.release().catch((error: unknown) => this.logger.warn({ err: error, job: name }, `releasing the ${name} job lock failed`));
    }
  }

  private schedule(job: Job): void {
    const { coordinator, timezone, leaseMs } = this.dependencies;
    const task = createTask(job.cron, () => this.execute(job, 'scheduled'), {
      name: job.name,
      noOverlap: true,
      logger: cronLogger(this.logger),
      ...(timezone ? { timezone } : {}),
      ...(coordinator ? { distributed: true, runCoordinator: coordinator } : {}),
      ...(leaseMs ? { distributedLease: leaseMs } : {}),
    });
    task.on('execution:overlap', (context) => this.skipTick(job, context, 'the previous run is still in progress'));
    task.on('execution:skipped', (context) => this.skipTick(job, context, context.reason === 'not-elected' ? 'another replica runs this tick' : 'the run coordinator failed'));
    this.tasks.set(job.name, task);
    void task.start();
  }

  private skipTick(job: Job, context: TaskContext, why: string): void {
    this.dependencies.metrics.jobRuns.inc({ job: job.name, outcome: 'skipped' });
    if (context.reason === 'coordinator-error') this.dependencies.metrics.loopErrors.inc({ loop: 'scheduler' });
    const level = context.reason === 'not-elected' ? 'debug' : 'info';
    this.logger[level]({ job: job.name, tick: context.date.toISOString(), reason: context.reason ?? 'overlap' }, `skipped ${job.name} tick: ${why}`);
  }

  private async execute(job: Job, trigger: 'scheduled' | 'manual'): Promise<JobOutcome> {
    if (this.stopping || this.inFlight.has(job.name)) {
      return this.skip(job, trigger, this.stopping ? 'shutting down' : 'a run is already in progress');
    }
    const controller = new AbortController();
    const done = this.runLocked(job, controller.signal, trigger);
    this.inFlight.set(job.name, { controller, done });
    try {
      return await done;
    } finally {
      this.inFlight.delete(job.name);
    }
  }

  private skip(job: Job, trigger: 'scheduled' | 'manual', why: string): JobOutcome {
    this.dependencies.metrics.jobRuns.inc({ job: job.name, outcome: 'skipped' });
    this.logger.info({ job: job.name, trigger }, `skipped ${job.name}: ${why}`);
    return 'skipped';
  }

  private async runLocked(job: Job, signal: AbortSignal, trigger: 'scheduled' | 'manual'): Promise<JobOutcome> {
    const lock = this.dependencies.jobLock;
    if (!lock) return this.runGuarded(job, signal, trigger);
    let handle;
    try {
      handle = await lock.acquire(job.name);
    } catch (error) {
      // Fail closed, like the run coordinator: a skipped run is retried at the next tick.
      this.dependencies.metrics.loopErrors.inc({ loop: 'scheduler' });
      this.logger.warn({ err: error, job: job.name }, `could not take the ${job.name} job lock: ${errorMessage(error)}`);
      return this.skip(job, trigger, 'the job lock is unavailable');
    }
    if (!handle) return this.skip(job, trigger, 'another replica is running it');
    const entry = this.inFlight.get(job.name);
    if (entry) entry.lock = handle;
    try {
      return await this.runGuarded(job, signal, trigger);
    } finally {
      await handle.release().catch((error: unknown) => this.logger.warn({ err: error, job: job.name }, `releasing the ${job.name} job lock failed`));
    }
  }

  /** Runs the job once; always resolves, whatever the job does. */
  private async runGuarded(job: Job, signal: AbortSignal, trigger: 'scheduled' | 'manual'): Promise<JobOutcome> {
    const { metrics } = this.dependencies;
    const logger = this.logger.child({ job: job.name });
    const stopTimer = metrics.jobDuration.startTimer({ job: job.name });
    let outcome: JobOutcome = 'ok';
    logger.debug({ trigger }, `${job.name} started`);
    try {
      await withSpan(`job ${job.name}`, { 'pipewarden.job': job.name, 'pipewarden.trigger': trigger }, () => job.run(signal));
    } catch (error) {
      outcome = 'error';
      logger.error({ err: error, trigger, aborted: signal.aborted }, `${job.name} failed: ${errorMessage(error)}`);
    } finally {
      const seconds = stopTimer();
      metrics.jobRuns.inc({ job: job.name, outcome });
      const duration_s = Number(seconds.toFixed(3));
      if (outcome === 'ok') logger.info({ trigger, duration_s, aborted: signal.aborted }, signal.aborted ? `${job.name} stopped early after abort` : `${job.name} finished`);
    }
    return outcome;
  }
}

/** True when every promise settled within `ms`. */
async function settlesWithin(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
