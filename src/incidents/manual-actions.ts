// People acting on an incident (CLI now; Slack buttons and PagerDuty webhooks later): acknowledge
// stops reminders, resolve closes it and restarts the check's pending period. Each is one
// transaction: the incident, the check's tracking, the timeline and the notifications together.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { PipewardenError } from '../errors.ts';
import { pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import {
  insertIncidentEvents,
  insertOutboxItems,
  lockIncident,
  markIncidentOpen,
  reopenResolvedIncident,
  saveTracking,
  updateIncident,
  type IncidentRow,
} from '../store/incident-records.ts';
import { withTransaction } from '../store/transaction.ts';
import { resolveIncidentByHand, type CheckTracking } from './lifecycle.ts';
import { notificationChannels } from '../notify/channels.ts';
import { activeIncident, storedPart } from './apply-findings.ts';
import { planNotifications, type IncidentChange } from './plan-notifications.ts';
import { releaseSymptoms, tellGrouping, type NotificationSink } from './root-cause.ts';

export interface Actor {
  /** Who: a user name, a Slack user, a PagerDuty user. */
  by: string;
  /** From where: `cli`, `slack`, `pagerduty`. */
  source: string;
}

export interface ManualActionResult {
  incident: IncidentRow;
  /** False when the incident already was in the asked state: nothing changed, nobody was told. */
  changed: boolean;
}

export type IncidentAction = 'acknowledge' | 'resolve' | 'reopen';

export async function acknowledgeIncidentById(pool: pg.Pool, config: Config, id: string, actor: Actor, now: Date): Promise<ManualActionResult> {
  return withTransaction(pool, (client) => actOnIncident(client, config, id, 'acknowledge', actor, now));
}

export async function resolveIncidentById(pool: pg.Pool, config: Config, id: string, actor: Actor, now: Date): Promise<ManualActionResult> {
  return withTransaction(pool, (client) => actOnIncident(client, config, id, 'resolve', actor, now));
}

/** One person's action on incident `id`, inside the caller's transaction. */
export async function actOnIncident(client: pg.ClientBase, config: Config, id: string, action: IncidentAction, actor: Actor, now: Date): Promise<ManualActionResult> {
  const locked = await lockIncident(client, id);
  if (locked === undefined) throw new PipewardenError('incident_not_found', `No incident #${id}. \`pipewarden incidents list --status all\` shows them.`);
  const stored = locked.tracking === null ? null : { ...locked.tracking, incident: undefined };
  switch (action) {
    case 'acknowledge':
      return acknowledge(client, config, locked.incident, actor, now);
    case 'resolve':
      return resolve(client, config, locked.incident, stored, actor, now);
    case 'reopen':
      return reopen(client, config, locked.incident, actor, now);
  }
}

async function acknowledge(client: pg.ClientBase, config: Config, incident: IncidentRow, actor: Actor, now: Date): Promise<ManualActionResult> {
  if (incident.status !== 'open') return { incident, changed: false };
  const acknowledged = await updateIncident(client, incident.id, { status: 'acknowledged', acknowledged: { at: now, by: actor.by } });
  await record(client, config, acknowledged, { type: 'acknowledged', by: actor.by, source: actor.source }, actor, now);
  return { incident: acknowledged, changed: true };
}

async function resolve(client: pg.ClientBase, config: Config, incident: IncidentRow, stored: CheckTracking | null, actor: Actor, now: Date): Promise<ManualActionResult> {
  if (incident.status === 'resolved') return { incident, changed: false };
  if (stored !== null) {
    const next = resolveIncidentByHand({ ...stored, incident: activeIncident(incident) }, now.getTime());
    await saveTracking(client, [{ checkId: incident.check_id, tracking: storedPart(next), incidentId: null }], now);
  }
  const resolved = await updateIncident(client, incident.id, { status: 'resolved', resolved: { at: now, by: actor.by } });
  await record(client, config, resolved, { type: 'resolved_by_hand', by: actor.by, source: actor.source }, actor, now);
  // What it explained is judged on its own again (and pages if it still fails).
  const sink: NotificationSink = { events: [], items: [] };
  tellGrouping(config, await releaseSymptoms(client, resolved, now), sink);
  await insertIncidentEvents(client, sink.events, now);
  await insertOutboxItems(client, sink.items, now);
  return { incident: resolved, changed: true };
}

/**
 * Back to open (PagerDuty's "reopened"): an acknowledged incident loses its acknowledgement; a
 * resolved one becomes its check's active incident again, unless the check already has a newer one.
 */
async function reopen(client: pg.ClientBase, config: Config, incident: IncidentRow, actor: Actor, now: Date): Promise<ManualActionResult> {
  if (incident.status === 'open') return { incident, changed: false };
  if (incident.status === 'resolved' && !(await reopenResolvedIncident(client, incident, now))) return { incident, changed: false };
  const reopened = await markIncidentOpen(client, incident.id);
  await record(client, config, reopened, { type: 'reopened', by: actor.by, source: actor.source }, actor, now);
  return { incident: reopened, changed: true };
}

async function record(client: pg.ClientBase, config: Config, incident: IncidentRow, change: IncidentChange, actor: Actor, now: Date): Promise<void> {
  await insertIncidentEvents(client, [{ incidentId: incident.id, type: change.type === 'resolved_by_hand' ? 'resolved' : change.type, actor: actor.by, source: actor.source }], now);
  const plan = planNotifications({
    change,
    incident,
    route: routeForIncident(config, incident),
    channels: notificationChannels(config),
    pageOn: pagedSeveritiesFor(config, incident.asset),
  });
  // PagerDuty told us (a webhook): telling it back would only echo.
  const items = actor.source === 'pagerduty' ? plan.items.filter((item) => item.channel !== 'pagerduty') : plan.items;
  await insertOutboxItems(client, items, now);
}
