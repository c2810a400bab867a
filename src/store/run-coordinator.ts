// node-cron 4's RunCoordinator backed by the `leases` table, so with several replicas on one
// state database each scheduled tick runs on exactly one of them. node-cron's key already names
// the task and the tick (`<task>:<tick ISO time>`), so one tick's lease never blocks the next.
//
// The lease is kept, not released, when the run completes: a replica whose timer fired late
// must still find the tick taken. Old tick leases are swept away now and then instead.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { RunCoordinator } from 'node-cron';
import { deleteExpiredLeases, tryAcquireLease } from './leases.ts';

export interface LeaseRunCoordinatorOptions {
  pool: pg.Pool;
  /** This replica's identity, e.g. `hostname:pid:random`; unique per process. */
  holder: string;
  logger: Logger;
  /** The clock; injected so tests decide what "now" is. */
  now?: () => Date;
}

const LEASE_PREFIX = 'cron:';
/** Tick leases this long past expiry are deleted; they only mattered around their tick. */
const RETAIN_EXPIRED_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;

export class LeaseRunCoordinator implements RunCoordinator {
  readonly #pool: pg.Pool;
  readonly #holder: string;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #ttlByKey = new Map<string, number>();
  #lastSweep = 0;

  constructor(options: LeaseRunCoordinatorOptions) {
    this.#pool = options.pool;
    this.#holder = options.holder;
    this.#logger = options.logger.child({ component: 'run-coordinator' });
    this.#now = options.now ?? (() => new Date());
  }

  /** Errors propagate: node-cron then skips the tick (fail closed) rather than run it twice. */
  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    await this.#sweepOccasionally(now);
    const won = await tryAcquireLease(this.#pool, leaseName(key), this.#holder, ttlMs, now);
    if (won) this.#ttlByKey.set(key, ttlMs);
    this.#logger.debug({ key, won }, won ? 'won scheduled tick' : 'another replica runs this tick');
    return won;
  }

  /** Keeps the tick claimed for another TTL after a long run, so a late replica cannot rerun it. */
  async onComplete(key: string): Promise<void> {
    const ttlMs = this.#ttlByKey.get(key);
    this.#ttlByKey.delete(key);
    if (ttlMs === undefined) return;
    // Acquire rather than renew: after a run longer than the TTL the lease has expired, and the
    // tick must be claimed again all the same.
    await tryAcquireLease(this.#pool, leaseName(key), this.#holder, ttlMs, this.#now());
  }

  async #sweepOccasionally(now: Date): Promise<void> {
    if (now.getTime() - this.#lastSweep < SWEEP_EVERY_MS) return;
    this.#lastSweep = now.getTime();
    const removed = await deleteExpiredLeases(this.#pool, LEASE_PREFIX, new Date(now.getTime() - RETAIN_EXPIRED_MS));
    if (removed > 0) this.#logger.debug({ removed }, 'removed old tick leases');
  }
}

export function leaseName(key: string): string {
  return `${LEASE_PREFIX}${key}`;
}
