// PagerDuty → pipewarden: an acknowledgement, resolution or reopening done in PagerDuty (a phone,
// the web app) is applied to the pipewarden incident with the same dedup key, so Slack and the
// CLI show it. Each event id is applied once (retries and replays change nothing), in the same
// transaction as the change; nothing is sent back to PagerDuty.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { fitDedupKey } from '../notify/pagerduty-event.ts';
import { selectIncidentIdByDedupKey, selectIncidentKeysByPrefix } from '../store/incident-records.ts';
import { recordWebhookEvent } from '../store/webhook-events.ts';
import { withTransaction } from '../store/transaction.ts';
import { actOnIncident, type IncidentAction } from './manual-actions.ts';

export type PagerDutySyncType = 'incident.acknowledged' | 'incident.resolved' | 'incident.reopened';

export interface PagerDutyIncidentChange {
  eventId: string;
  type: PagerDutySyncType;
  /** The Events API dedup key (PagerDuty's incident_key): pipewarden's incident key. */
  dedupKey: string | undefined;
  /** Who did it in PagerDuty, as PagerDuty names them. */
  agent: string | undefined;
}

export type SyncOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_incident';

const ACTIONS: Readonly<Record<PagerDutySyncType, IncidentAction>> = {
  'incident.acknowledged': 'acknowledge',
  'incident.resolved': 'resolve',
  'incident.reopened': 'reopen',
};

export async function syncPagerDutyChange(pool: pg.Pool, config: Config, change: PagerDutyIncidentChange, now: Date): Promise<SyncOutcome> {
  return withTransaction(pool, async (client) => {
    if (!(await recordWebhookEvent(client, 'pagerduty', change.eventId, now))) return 'duplicate';
    const id = change.dedupKey === undefined ? undefined : await incidentWithKey(client, change.dedupKey);
    if (id === undefined) return 'unknown_incident';
    const result = await actOnIncident(client, config, id, ACTIONS[change.type], { by: change.agent ?? 'PagerDuty', source: 'pagerduty' }, now);
    return result.changed ? 'applied' : 'unchanged';
  });
}

/**
 * The incident PagerDuty knows by `key`: ours exactly, or one whose key was too long for
 * PagerDuty and was sent shortened (a readable prefix, `~`, a hash of the whole key).
 */
async function incidentWithKey(client: pg.ClientBase, key: string): Promise<string | undefined> {
  const exact = await selectIncidentIdByDedupKey(client, key);
  const cut = key.lastIndexOf('~');
  if (exact !== undefined || cut <= 0) return exact;
  const candidates = await selectIncidentKeysByPrefix(client, key.slice(0, cut));
  return candidates.find((candidate) => fitDedupKey(candidate.dedupKey) === key)?.id;
}
