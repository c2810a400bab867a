// The background loop that executes runbook runs: it claims queued runs (and runs whose daemon
// stopped heartbeating) up to `runbooks.concurrency`, executes each (src/runbooks/execute-run.ts),
// and renews the leases of those in flight every third of the lease. A run whose lease cannot
// be renewed — another daemon took it after this one stalled — is stopped here at once.
// On stop, no new run or step starts. A run between steps, or in a step that is safe to repeat
// (waiting for an approval, verifying, an idempotent load), is interrupted at once and released:
// the next daemon resumes it where it was. A run in a step that is not safe to repeat gets until
// the deadline to finish it, since cutting it short would leave it half-done and escalated.

import { errorMessage } from '../errors.ts';
import { TimerLoop } from '../scheduler/timer-loop.ts';
import { claimRuns, renewLeases } from '../store/runbook-runs.ts';
import type { RunRow } from '../store/runbook-runs.ts';
import { executeRun } from './execute-run.ts';
import type { RunEnvironment } from './run-environment.ts';
import type { RunSession } from './run-session.ts';

export interface RunExecutorOptions {
  /** This daemon's identity in leases: host, pid and a random part. */
  owner: string;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
}

interface InFlight {
  done: Promise<void>;
  session?: RunSession;
}

export class RunExecutor extends TimerLoop {
  private readonly env: RunEnvironment;
  private readonly settings: RunExecutorOptions;
  private readonly inFlight = new Map<string, InFlight>();
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  /** When the leases of the runs in flight were last extended. */
  private renewedAt = Date.now();

  constructor(env: RunEnvironment, options: RunExecutorOptions) {
    super({ name: 'runbooks', logger: env.logger, intervalMs: options.pollMs ?? 2_000, metrics: env.metrics, random: env.random });
    this.env = env;
    this.settings = options;
  }

  override start(): void {
    super.start();
    this.heartbeat ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(this.settings.leaseMs / 3)));
  }

  protected async pass(): Promise<number | undefined> {
    if (this.stopping) return undefined;
    const free = this.settings.concurrency - this.inFlight.size;
    const runs = await claimRuns(this.env.pool, this.settings.owner, this.env.now(), this.settings.leaseMs, free, this.activeRuns);
    for (const run of runs) this.launch(run);
    return undefined;
  }

  /** Runs in flight on this daemon, by id. */
  get activeRuns(): string[] {
    return [...this.inFlight.keys()];
  }

  private launch(run: RunRow): void {
    if (this.inFlight.size === 0) this.renewedAt = this.env.now().getTime();
    const entry: InFlight = { done: Promise.resolve() };
    entry.done = executeRun(this.env, run, this.settings.owner, (session) => {
      entry.session = session;
      if (this.stopping) session.stop('shutdown');
    })
      .then((end) => this.logger.debug({ run: run.id, status: end.status }, 'runbook run left this daemon'))
      .catch((error: unknown) => {
        this.env.metrics?.loopErrors.inc({ loop: 'runbooks' });
        this.logger.error({ err: error, run: run.id }, `runbook run ${run.id} failed inside pipewarden: ${errorMessage(error)}; its lease will lapse and another pass resumes it`);
      })
      .finally(() => {
        this.inFlight.delete(run.id);
        this.env.metrics?.runbookRunsActive.set(this.inFlight.size);
        if (!this.stopping) this.wake();
      });
    this.inFlight.set(run.id, entry);
    this.env.metrics?.runbookRunsActive.set(this.inFlight.size);
  }

  private async renew(): Promise<void> {
    const ids = this.activeRuns;
    if (ids.length === 0) return;
    try {
      const held = await renewLeases(this.env.pool, ids, this.settings.owner, new Date(this.env.now().getTime() + this.settings.leaseMs));
      this.renewedAt = this.env.now().getTime();
      for (const id of ids) if (!held.has(id)) this.inFlight.get(id)?.session?.stop('lease_lost');
    } catch (error) {
      this.logger.warn({ err: error }, `renewing runbook run leases failed: ${errorMessage(error)}`);
      // Past the lease another daemon may have taken the runs over: stop rather than act twice.
      if (this.env.now().getTime() - this.renewedAt > this.settings.leaseMs) {
        for (const entry of this.inFlight.values()) entry.session?.stop('lease_lost');
      }
    }
  }

  /**
   * Stops claiming; waits for runs in flight until `deadline`, then interrupts them (their
   * attempts are recorded as interrupted and their leases released for the next daemon).
   */
  async stopAndDrain(deadline: Date): Promise<void> {
    this.stopping = true;
    await super.stop();
    for (const entry of this.inFlight.values()) if (entry.session?.interruptible === true) entry.session.stop('shutdown');
    const all = Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    const remaining = deadline.getTime() - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining))));
    if ((await Promise.race([all.then(() => 'done' as const), timedOut])) === 'timeout') {
      for (const entry of this.inFlight.values()) entry.session?.stop('shutdown');
      await all;
    }
    clearTimeout(timer);
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  override async stop(): Promise<void> {
    await this.stopAndDrain(new Date());
  }
}
