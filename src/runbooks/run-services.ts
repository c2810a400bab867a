// RunServices for the daemon and the CLI: how verify, notify, resolve, silence and approve reach
// pipewarden's own machinery on behalf of one run.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { notificationChannels } from '../notify/channels.ts';
import { pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import { resolveIncidentById } from '../incidents/manual-actions.ts';
import { planNotifications, type RecoveryChange } from '../incidents/plan-notifications.ts';
import { silenceFor } from '../incidents/silences.ts';
import { noteSilenceOnCoveredIncidents } from '../incidents/incident-notes.ts';
import { insertIncidentEvents, insertOutboxItems, lockIncident, type IncidentEventRecord } from '../store/incident-records.ts';
import { selectApproval } from '../store/runbook-approvals.ts';
import type { RunRow } from '../store/runbook-runs.ts';
import { insertSilence, selectActiveSilences } from '../store/silences.ts';
import { withTransaction } from '../store/transaction.ts';
import type { CheckKind, Finding } from '../types.ts';
import type { RunServices } from './action.ts';

export interface RunServicesContext {
  pool: pg.Pool;
  config: Config;
  logger: Logger;
  now(): Date;
  /** A real sweep/profile of one asset whose findings go through the incident lifecycle. */
  evaluateChecks(asset: string, kinds: readonly CheckKind[], signal: AbortSignal): Promise<Finding[]>;
  /** The outbox should look now. */
  wake?: () => void;
}

export function runServices(context: RunServicesContext, run: RunRow): RunServices {
  const actor = `runbook:${run.runbook}#${run.id}`;
  return {
    evaluateChecks: (asset, kinds, signal) => context.evaluateChecks(asset, kinds, signal),
    announce: (text, detail) => announce(context, run, text, detail ?? {}),
    showProgress: progressShower(context, run),
    async resolveIncident(by) {
      if (run.incident_id === null) return false;
      const result = await resolveIncidentById(context.pool, context.config, run.incident_id, { by, source: 'runbook' }, context.now());
      if (result.changed) context.wake?.();
      return result.changed;
    },
    async silence(silence) {
      const now = context.now();
      const { created, noted } = await withTransaction(context.pool, async (client) => {
        const inserted = await insertSilence(
          client,
          { assetGlobs: silence.assets, checkGlobs: silence.checks, startsAt: now, endsAt: new Date(now.getTime() + silence.durationMs), reason: silence.reason, createdBy: silence.by },
          now,
        );
        return { created: inserted, noted: await noteSilenceOnCoveredIncidents(client, context.config, inserted, { by: silence.by, source: 'runbook' }, now) };
      });
      if (noted.length > 0) context.wake?.();
      return created.id;
    },
    async approval(step) {
      const row = await selectApproval(context.pool, run.id, step);
      return row === undefined ? undefined : { decision: row.decision, by: row.decided_by };
    },
  };

  async function announce(ctx: RunServicesContext, current: RunRow, text: string, detail: Record<string, unknown>): Promise<void> {
    if (current.incident_id === null) {
      ctx.logger.info({ run: current.id, runbook: current.runbook, ...detail }, `runbook ${current.runbook} (run #${current.id}): ${text}`);
      return;
    }
    const asksApproval = detail.approval === 'requested' && typeof detail.step === 'string';
    const change = { type: 'runbook_note' as const, runbook: current.runbook, run: current.id, text, ...(asksApproval ? { approval: { step: detail.step as string } } : {}) };
    await tellIncident(ctx, current.incident_id, change, { incidentId: current.incident_id, type: 'runbook_note', actor, source: 'runbook', detail: { ...detail, text, run: current.id } });
  }
}

/**
 * Shows a step's progress on the incident's chat message: the first report, then at most one per
 * PROGRESS_INTERVAL_MS, and the last (done = total) always, so a 500-partition backfill edits the
 * message a handful of times a minute rather than 500 times. The log and the metric get every one.
 */
function progressShower(context: RunServicesContext, run: RunRow): RunServices['showProgress'] {
  const shownAt = new Map<string, number>();
  return async (step, progress) => {
    if (run.incident_id === null) return;
    const now = context.now().getTime();
    const last = shownAt.get(step);
    const finished = progress.done >= progress.total;
    if (last !== undefined && !finished && now - last < PROGRESS_INTERVAL_MS) return;
    shownAt.set(step, now);
    await tellIncident(context, run.incident_id, { type: 'runbook_progress', runbook: run.runbook, run: run.id, step, ...progress }, undefined);
  };
}

export const PROGRESS_INTERVAL_MS = 10_000;

/** Plans and queues the notifications of one change, with its timeline event when it has one, in one transaction. */
async function tellIncident(context: RunServicesContext, incidentId: string, change: RecoveryChange, event: IncidentEventRecord | undefined): Promise<void> {
  const now = context.now();
  const silences = await selectActiveSilences(context.pool, now);
  const queued = await withTransaction(context.pool, async (client) => {
    const locked = await lockIncident(client, incidentId);
    if (locked === undefined) return 0;
    const { incident } = locked;
    if (event !== undefined) await insertIncidentEvents(client, [event], now);
    const silencedBy = silenceFor(silences, { asset: incident.asset, check: incident.check_id });
    const plan = planNotifications({ change, incident, route: routeForIncident(context.config, incident), channels: notificationChannels(context.config), pageOn: pagedSeveritiesFor(context.config, incident.asset), silencedBy });
    await insertOutboxItems(client, plan.items, now);
    return plan.items.length;
  });
  if (queued > 0) context.wake?.();
}
