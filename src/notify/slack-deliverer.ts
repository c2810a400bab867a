// The Slack channel of the outbox: one message per incident in its owner's channel, edited in
// place as the incident changes, with the changes as replies in its thread (the timeline).
//
// For an outbox item (an incident change, planned by src/incidents/plan-notifications.ts):
// - no message stored for the incident yet: chat.postMessage to payload.slackChannel, then the
//   channel id and ts Slack answered go into slack_messages at once, before the item is marked
//   delivered. The change is the message itself, so it gets no thread reply.
// - a message stored: chat.update of it with the incident as it is now (the row in incidents,
//   not the snapshot in the item), then chat.postMessage with thread_ts = the message's ts for
//   the change. The reply is recorded (replied_outbox_id) right after Slack takes it.
//
// A retried item (Slack answered 429 or 5xx, the process died, the lease ran out) looks the row
// up first, so it edits the message instead of posting a second one, and skips a reply already
// recorded. What remains possible: a crash (or a lost database connection) between Slack's
// answer and the INSERT / UPDATE that records it — one statement, right after the call — posts a
// second root message or thread reply when the item is retried. Slack's API has no idempotency
// key for chat.postMessage, so that window can be made short but not closed.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import type { OutboxRow } from '../store/outbox.ts';
import { selectIncident } from '../store/incident-records.ts';
import { insertSlackMessage, markSlackReplyPosted, selectSlackMessage, updateSlackMessageRunbook } from '../store/slack-messages.ts';
import type { Finding } from '../types.ts';
import type { Deliverer } from './delivery.ts';
import type { SlackClient } from './slack-client.ts';
import { buildIncidentMessage, buildThreadReply, RUNBOOK_CHANGES, type RunbookChange, type RunbookProgress, type SlackIncidentView, type StepProgress } from './slack-message.ts';

interface SlackItem {
  change: string;
  text: string;
  incident: { id: string; check: string; kind: string; asset: string; severity: string; status: SlackIncidentView['status']; flapping?: boolean; owner: string | null };
  finding: Finding;
  slackChannel?: string;
  runbook_attempts?: Record<string, unknown>[];
  approval?: { run: string; step: string };
  step_progress?: StepProgress;
}

export interface SlackDelivererDeps {
  pool: pg.Pool;
  client: Pick<SlackClient, 'postMessage' | 'update'>;
  config: Config;
  now?: () => Date;
}

export function slackDeliverer(deps: SlackDelivererDeps): Deliverer {
  const now = deps.now ?? (() => new Date());
  const grafanaUrl = deps.config.notifications.grafana_url;
  return async (item: OutboxRow) => {
    const payload = item.payload as unknown as SlackItem;
    const [stored, incident] = await Promise.all([selectSlackMessage(deps.pool, item.incident_id), selectIncident(deps.pool, item.incident_id)]);
    const shown = (stored?.runbook ?? null) as RunbookProgress | null;
    const progress = runbookProgress(payload, shown);
    const view = viewOf(payload, incident, progress ?? shown);
    const message = buildIncidentMessage(view, { grafanaUrl });

    if (stored === undefined) {
      const channel = payload.slackChannel;
      if (channel === undefined || channel === '') return { status: 'dead', reason: `no Slack channel for owner ${payload.incident.owner ?? '(none)'}: set owners.<owner>.slack` };
      const posted = await deps.client.postMessage({ channel, ...message });
      if (posted.status !== 'ok') return posted;
      // Recorded before anything else happens: a retry of this item must find it.
      await insertSlackMessage(deps.pool, { incidentId: item.incident_id, channel: posted.channel, ts: posted.ts, runbook: progress === undefined ? null : { ...progress }, outboxId: item.id }, now());
      return { status: 'delivered' };
    }

    const updated = await deps.client.update({ channel: stored.channel, ts: stored.ts, ...message });
    if (updated.status !== 'ok') return updated;
    if (progress !== undefined) await updateSlackMessageRunbook(deps.pool, item.incident_id, { ...progress }, now());
    // A progress report only moves the bar: the thread keeps the timeline, not every tick.
    if (payload.change === 'runbook_progress') return { status: 'delivered' };
    if (stored.replied_outbox_id !== null && Number(stored.replied_outbox_id) >= Number(item.id)) return { status: 'delivered' };
    const reply = await deps.client.postMessage({ channel: stored.channel, thread_ts: stored.ts, ...buildThreadReply(payload.text) });
    if (reply.status !== 'ok') return reply;
    await markSlackReplyPosted(deps.pool, item.incident_id, item.id, now());
    return { status: 'delivered' };
  };
}

/**
 * What the message shows of the runbook after this item. A step's progress is laid over what the
 * message already shows (a later note keeps the bar; an approval asked before it was decided, so
 * its buttons go); the run's end clears the bar.
 */
function runbookProgress(payload: SlackItem, shown: RunbookProgress | null): RunbookProgress | undefined {
  if (payload.change === 'runbook_progress' && payload.step_progress !== undefined) {
    const base = shown ?? { change: 'recovery_started' as const, text: payload.text };
    const { approval: _decided, ...rest } = base;
    return { ...rest, step: payload.step_progress };
  }
  if (!(RUNBOOK_CHANGES as readonly string[]).includes(payload.change)) return undefined;
  const carried = payload.change === 'runbook_note' && shown?.step !== undefined ? { step: shown.step } : {};
  return {
    change: payload.change as RunbookChange,
    text: payload.text,
    ...(payload.runbook_attempts === undefined ? {} : { attempts: payload.runbook_attempts }),
    ...(payload.approval === undefined ? {} : { approval: payload.approval }),
    ...carried,
  };
}

/** The incident as it is now when its row is there, else as the item saw it. */
function viewOf(payload: SlackItem, incident: Awaited<ReturnType<typeof selectIncident>>, runbook: RunbookProgress | null): SlackIncidentView {
  if (incident === undefined) {
    const summary = payload.incident;
    return { id: summary.id, check: summary.check, kind: summary.kind, asset: summary.asset, severity: summary.severity, status: summary.status, owner: summary.owner, flapping: summary.flapping, finding: payload.finding, runbook };
  }
  return {
    id: incident.id,
    check: incident.check_id,
    kind: incident.kind,
    asset: incident.asset,
    severity: incident.severity,
    status: incident.status,
    owner: incident.owner,
    flapping: incident.flapping,
    acknowledgedBy: incident.acknowledged_by,
    resolvedBy: incident.resolved_by,
    finding: incident.last_finding,
    runbook,
    causedBy: incident.caused_by,
    blastRadius: incident.blast_radius?.summary ?? null,
  };
}
