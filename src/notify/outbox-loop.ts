// Delivers the outbox. Every `pollMs` (and at once when woken after an incident change) it claims
// due items under a lease, hands each to its channel's deliverer, and records the outcome:
// delivered; retried with exponential backoff and full jitter (at least the receiver's
// Retry-After); or dead-lettered with a log line and a metric. Nothing is lost across restarts:
// an item is only ever marked after its delivery returned, and a claim whose sender died comes
// back when its lease runs out. The loop itself (pauses, wake-ups, errors) is a TimerLoop.

import type pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { backoffMs, TimerLoop } from '../scheduler/timer-loop.ts';
import type { OutboxChannel } from '../store/incident-records.ts';
import { claimDueItems, markDead, markDelivered, scheduleRetry, selectOutboxBacklog, type OutboxRow } from '../store/outbox.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { withSpan } from '../telemetry/tracing.ts';
import type { Deliverer, DeliveryOutcome } from './delivery.ts';

export interface OutboxLoopDeps {
  pool: pg.Pool;
  deliverers: Partial<Record<OutboxChannel, Deliverer>>;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  pollMs?: number;
  /** How long a claim lasts before another sender may take the item (longer than any delivery). */
  leaseMs?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

const BATCH_SIZE = 50;
const PAGE_SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);

/** The incident severity of a delivered PagerDuty trigger (a page), or undefined for any other item. */
function pageSeverity(item: OutboxRow): string | undefined {
  if (item.channel !== 'pagerduty' || item.payload.action !== 'trigger') return undefined;
  const severity = (item.payload.incident as { severity?: unknown } | undefined)?.severity;
  // The label set stays bounded whatever an old or odd payload holds.
  return typeof severity === 'string' && PAGE_SEVERITIES.has(severity) ? severity : 'unknown';
}

export class OutboxLoop extends TimerLoop {
  private readonly deps: OutboxLoopDeps;
  private readonly leaseMs: number;

  constructor(deps: OutboxLoopDeps) {
    super({ name: 'outbox', logger: deps.logger, intervalMs: deps.pollMs ?? 1_000, metrics: deps.metrics, random: deps.random });
    this.deps = deps;
    this.leaseMs = deps.leaseMs ?? 60_000;
  }

  protected async pass(): Promise<number | undefined> {
    // A full batch means more is waiting: go on at once.
    return (await this.deliverDue()) === BATCH_SIZE ? 0 : undefined;
  }

  /** One pass: claims and delivers what is due. Resolves to the number of items handled. */
  async deliverDue(): Promise<number> {
    const items = await claimDueItems(this.deps.pool, this.deps.now(), this.leaseMs, BATCH_SIZE);
    for (const item of items) await this.deliver(item);
    await this.recordBacklog();
    return items.length;
  }

  private async deliver(item: OutboxRow): Promise<void> {
    const { metrics } = this.deps;
    const stopTimer = metrics.notificationDeliveryDuration.startTimer({ channel: item.channel });
    const attributes = { 'pipewarden.channel': item.channel, 'pipewarden.outbox.id': item.id, 'pipewarden.incident.id': item.incident_id, 'pipewarden.attempt': item.attempts };
    const outcome = await withSpan('outbox delivery', attributes, async (span) => {
      const delivered = await this.attempt(item);
      span.setAttribute('pipewarden.delivery.outcome', delivered.status);
      return delivered;
    }).finally(() => stopTimer());
    const log = this.logger.child({ outbox: item.id, incident: item.incident_id, channel: item.channel, attempt: item.attempts });
    if (outcome.status === 'delivered') {
      await markDelivered(this.deps.pool, item.id, this.deps.now());
      metrics.notificationsDelivered.inc({ channel: item.channel });
      const page = pageSeverity(item);
      if (page !== undefined) metrics.pages.inc({ severity: page });
    } else if (outcome.status === 'retry') {
      const delayMs = Math.max(outcome.retryAfterMs ?? 0, this.backoffMs(item.attempts));
      await scheduleRetry(this.deps.pool, item.id, new Date(this.deps.now().getTime() + delayMs), outcome.reason);
      metrics.notificationsRetried.inc({ channel: item.channel });
      log.warn({ retryInMs: delayMs }, `${item.channel} delivery will be retried: ${outcome.reason}`);
    } else {
      await markDead(this.deps.pool, item.id, outcome.reason, this.deps.now());
      metrics.notificationsDeadLettered.inc({ channel: item.channel });
      log.error(`${item.channel} delivery gave up (dead letter): ${outcome.reason}`);
    }
  }

  private async attempt(item: OutboxRow): Promise<DeliveryOutcome> {
    const deliverer = this.deps.deliverers[item.channel];
    if (deliverer === undefined) return { status: 'retry', reason: `no ${item.channel} deliverer is configured in this process` };
    try {
      return await deliverer(item);
    } catch (error) {
      // A deliverer is meant to classify its own failures; an exception is treated as transient.
      return { status: 'retry', reason: errorMessage(error) };
    }
  }

  /** The pause before retrying an item: exponential in its attempts, with jitter. */
  private backoffMs(attempts: number): number {
    return backoffMs(this.deps.baseBackoffMs ?? 1_000, attempts - 1, this.deps.random, this.deps.maxBackoffMs);
  }

  private async recordBacklog(): Promise<void> {
    const backlog = await selectOutboxBacklog(this.deps.pool);
    this.deps.metrics.outboxDepth.set(backlog.depth);
    const ageMs = backlog.oldestPendingAt === null ? 0 : this.deps.now().getTime() - backlog.oldestPendingAt.getTime();
    this.deps.metrics.outboxOldestPendingAge.set(Math.max(0, ageMs) / 1000);
  }
}
