// Keeps a job to one run at a time across replicas. The run coordinator elects one replica per
// tick, but a run longer than the interval would still overlap the next tick's run on another
// replica (node-cron's noOverlap only sees its own process). So a run also holds a `job:<name>`
// lease for as long as it lasts, renewed by a heartbeat; a replica that crashes mid-run frees
// the job after one TTL.

import type pg from 'pg';
import { errorMessage } from '../errors.ts';
import { releaseLease, renewLease, tryAcquireLease } from '../store/leases.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface JobLockHandle {
  /** Gives the lock up; calling it again does nothing. */
  release(): Promise<void>;
}

/** Held by a run for its whole duration; `acquire` resolves undefined when another holder has it. */
export interface JobLock {
  acquire(job: string): Promise<JobLockHandle | undefined>;
}

export interface LeaseJobLockOptions {
  pool: pg.Pool;
  /** This replica's identity; unique per process. */
  holder: string;
  logger: Logger;
  /** Lease length; renewed every third of it while the run lasts. */
  ttlMs?: number;
  now?: () => Date;
}

const DEFAULT_TTL_MS = 60_000;

export class LeaseJobLock implements JobLock {
  readonly #options: LeaseJobLockOptions;
  readonly #ttlMs: number;
  readonly #now: () => Date;

  constructor(options: LeaseJobLockOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? (() => new Date());
  }

  async acquire(job: string): Promise<JobLockHandle | undefined> {
    const { pool, holder } = this.#options;
    const name = `job:${job}`;
    if (!(await tryAcquireLease(pool, name, holder, this.#ttlMs, this.#now()))) return undefined;
    const heartbeat = setInterval(() => void this.#renew(name), Math.max(1, Math.floor(this.#ttlMs / 3)));
    heartbeat.unref();
    let released: Promise<void> | undefined;
    return {
      // Idempotent: the scheduler may release for a run it left behind, and the run again later.
      release: () => {
        clearInterval(heartbeat);
        released ??= releaseLease(pool, name, holder).then(() => undefined);
        return released;
      },
    };
  }

  /** A failed renewal is logged, not thrown: the run goes on, and at worst another replica starts. */
  async #renew(name: string): Promise<void> {
    try {
      const kept = await renewLease(this.#options.pool, name, this.#options.holder, this.#ttlMs, this.#now());
      if (!kept) this.#options.logger.warn({ lease: name }, `lost the ${name} lease while running; another replica may start it`);
    } catch (error) {
      this.#options.logger.warn({ err: error, lease: name }, `renewing the ${name} lease failed: ${errorMessage(error)}`);
    }
  }
}
