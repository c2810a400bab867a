// The escalation policy's second half: what a finished run means for its incident. A run that
// failed, escalated or passed its deadline pages (or updates the page) with the run's record —
// every step attempt, its status, error and timing. A run that succeeded counts as a recovery
// only if the check passes (the incident resolved, or the check's latest evaluation is ok);
// otherwise it pages too: "the runbook ran and the data is still broken" is worth a human.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { notificationChannels } from '../notify/channels.ts';
import { pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import { insertIncidentEvents, insertOutboxItems, lockIncident, selectIncident, updateIncident } from '../store/incident-records.ts';
import type { RunRow } from '../store/runbook-runs.ts';
import { selectAttempts } from '../store/runbook-runs.ts';
import { selectLatestStatuses } from '../store/sweep-records.ts';
import { withTransaction } from '../store/transaction.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { planNotifications, type RecoveryChange } from './plan-notifications.ts';

export interface RecoveryOutcomeContext {
  pool: pg.Pool;
  config: Config;
  logger: Logger;
  metrics?: Metrics | undefined;
  now(): Date;
  /** The outbox should look now. */
  wake?: () => void;
}

/** The run's record as a page shows it: one entry per attempt, in order. */
export async function runRecord(pool: pg.Pool, runId: string): Promise<Record<string, unknown>[]> {
  const attempts = await selectAttempts(pool, runId);
  return attempts.map((attempt) => ({
    step: attempt.step,
    ...(attempt.partition === '' ? {} : { partition: attempt.partition }),
    action: attempt.action,
    attempt: attempt.attempt,
    status: attempt.status,
    ...(attempt.error === null ? {} : { error: attempt.error.slice(0, 500) }),
    started_at: attempt.started_at.toISOString(),
    ...(attempt.finished_at === null ? {} : { seconds: (attempt.finished_at.getTime() - attempt.started_at.getTime()) / 1000 }),
  }));
}

/** Pages (or updates the page of) the run's incident; a run without an incident is logged. */
export async function escalateRun(context: RecoveryOutcomeContext, run: RunRow, reason: string): Promise<void> {
  if (run.incident_id === null) {
    context.logger.warn({ run: run.id, runbook: run.runbook, asset: run.asset }, `runbook run #${run.id} (${run.runbook}) on ${run.asset} needs a person: ${reason} (no incident to page; it was started by ${run.started_by})`);
    return;
  }
  const attempts = await runRecord(context.pool, run.id);
  await tellIncident(context, run.incident_id, { type: 'recovery_failed', runbook: run.runbook, run: run.id, reason, attempts }, { at: 'runbook_escalated' });
}

/** After a run ended: a recovery when the check passes; otherwise it pages like a failure. */
export async function concludeRun(context: RecoveryOutcomeContext, run: RunRow, status: RunRow['status']): Promise<void> {
  if (status !== 'succeeded' || run.incident_id === null) return;
  const passing = await checkPasses(context.pool, run.incident_id);
  if (passing === undefined) return;
  if (!passing) {
    await escalateRun(context, run, 'ended, but the check still fails');
    return;
  }
  const paged = await tellIncident(context, run.incident_id, { type: 'recovered', runbook: run.runbook, run: run.id }, { at: 'runbook_recovered' });
  if (!paged) context.metrics?.runbookRecoveries.inc({ runbook: run.runbook });
}

/** Whether the incident's check passes now; undefined when the incident is gone. */
async function checkPasses(pool: pg.Pool, incidentId: string): Promise<boolean | undefined> {
  const incident = await selectIncident(pool, incidentId);
  if (incident === undefined) return undefined;
  if (incident.status === 'resolved') return true;
  const latest = await selectLatestStatuses(pool, [incident.check_id]);
  return latest.get(incident.check_id) === 'ok';
}

/** Timeline and notifications for a recovery change; resolves to whether the incident had been paged. */
async function tellIncident(context: RecoveryOutcomeContext, incidentId: string, change: RecoveryChange, event: { at: string }): Promise<boolean> {
  const now = context.now();
  const queued = await withTransaction(context.pool, async (client) => {
    const locked = await lockIncident(client, incidentId);
    if (locked === undefined) return { paged: false, items: 0 };
    const { incident } = locked;
    const { attempts: _attempts, ...detail } = change as RecoveryChange & { attempts?: unknown };
    await insertIncidentEvents(client, [{ incidentId, type: event.at, source: 'runbook', actor: `runbook:${change.runbook}#${change.run}`, detail }], now);
    // A resolved incident needs no page; its timeline still says how the run ended.
    if (incident.status === 'resolved' && change.type === 'recovery_failed') return { paged: incident.paged_at !== null, items: 0 };
    const plan = planNotifications({ change, incident, route: routeForIncident(context.config, incident), channels: notificationChannels(context.config), pageOn: pagedSeveritiesFor(context.config, incident.asset) });
    await insertOutboxItems(client, plan.items, now);
    if (plan.pages) await updateIncident(client, incident.id, { pagedAt: now });
    return { paged: incident.paged_at !== null || plan.pages, items: plan.items.length };
  });
  if (queued.items > 0) context.wake?.();
  return queued.paged;
}
