// People acting on an incident (CLI now; Slack buttons and PagerDuty webhooks later): acknowledge
// stops reminders, resolve closes it and restarts the check's pending period. Each is one
// transaction: the incident, the check's tracking, the timeline and the notifications together.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { PipewardenError } from '../errors.ts';
import { pagedSeveritiesFor, routeForAsset } from '../notify/routing.ts';
import { insertIncidentEvents, insertOutboxItems, lockIncident, saveTracking, updateIncident, type IncidentRow } from '../store/incident-records.ts';
import { resolveIncidentByHand, type CheckTracking } from './lifecycle.ts';
import { activeIncident, notificationChannels, storedPart } from './apply-findings.ts';
import { planNotifications, type IncidentChange } from './plan-notifications.ts';

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

export async function acknowledgeIncidentById(pool: pg.Pool, config: Config, id: string, actor: Actor, now: Date): Promise<ManualActionResult> {
  return inTransaction(pool, id, async (client, incident) => {
    if (incident.status !== 'open') return { incident, changed: false };
    const acknowledged = await updateIncident(client, incident.id, { status: 'acknowledged', acknowledged: { at: now, by: actor.by } });
    await record(client, config, acknowledged, { type: 'acknowledged', by: actor.by, source: actor.source }, actor, now);
    return { incident: acknowledged, changed: true };
  });
}

export async function resolveIncidentById(pool: pg.Pool, config: Config, id: string, actor: Actor, now: Date): Promise<ManualActionResult> {
  return inTransaction(pool, id, async (client, incident, stored) => {
    if (incident.status === 'resolved') return { incident, changed: false };
    if (stored !== null) {
      const next = resolveIncidentByHand({ ...stored, incident: activeIncident(incident) }, now.getTime());
      await saveTracking(client, [{ checkId: incident.check_id, tracking: storedPart(next), incidentId: null }], now);
    }
    const resolved = await updateIncident(client, incident.id, { status: 'resolved', resolved: { at: now, by: actor.by } });
    await record(client, config, resolved, { type: 'resolved_by_hand', by: actor.by, source: actor.source }, actor, now);
    return { incident: resolved, changed: true };
  });
}

async function inTransaction(
  pool: pg.Pool,
  id: string,
  work: (client: pg.PoolClient, incident: IncidentRow, tracking: CheckTracking | null) => Promise<ManualActionResult>,
): Promise<ManualActionResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const locked = await lockIncident(client, id);
    if (locked === undefined) throw new PipewardenError('incident_not_found', `No incident #${id}. \`pipewarden incidents list --status all\` shows them.`);
    const result = await work(client, locked.incident, locked.tracking === null ? null : { ...locked.tracking, incident: undefined });
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function record(client: pg.ClientBase, config: Config, incident: IncidentRow, change: IncidentChange, actor: Actor, now: Date): Promise<void> {
  await insertIncidentEvents(client, [{ incidentId: incident.id, type: change.type === 'resolved_by_hand' ? 'resolved' : change.type, actor: actor.by, source: actor.source }], now);
  const plan = planNotifications({
    change,
    incident,
    route: routeForAsset(config, incident.asset),
    channels: notificationChannels(config),
    pageOn: pagedSeveritiesFor(config, incident.asset),
  });
  // PagerDuty told us (a webhook): telling it back would only echo.
  const items = actor.source === 'pagerduty' ? plan.items.filter((item) => item.channel !== 'pagerduty') : plan.items;
  await insertOutboxItems(client, items, now);
}
