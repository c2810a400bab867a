// What to tell whom when an incident changes: pure, from the change, the incident as it now is,
// the owner's route and the settings, to outbox items. PagerDuty hears about an incident only
// once its severity pages (`incidents.page_on`), and then about its acknowledgement and
// resolution; the console (and Slack, once configured) hears every change. A silence turns the
// items into nothing but a timeline note.

import type { IncidentRow, OutboxChannel, OutboxItem } from '../store/incident-records.ts';
import type { NotificationRoute } from '../notify/notification.ts';
import type { LifecycleEvent } from './lifecycle.ts';

export type IncidentChange =
  | LifecycleEvent
  | { type: 'acknowledged'; by: string; source: string }
  | { type: 'resolved_by_hand'; by: string; source: string }
  | { type: 'reopened'; by: string; source: string }
  | { type: 'silenced'; by: string; source: string; silence: string; until: string; reason: string }
  | { type: 'marked_expected'; by: string; source: string; check: string; bucket: string }
  | GroupingChange
  | RecoveryChange;

/** Root-cause grouping (src/incidents/root-cause.ts), as the incidents involved are told it. */
export type GroupingChange =
  /** This incident's asset reads a failing one: it joins that incident (its cause) and does not page on its own. */
  | { type: 'grouped'; cause: IncidentReference }
  /** On the cause: a downstream failure it explains joined it. */
  | { type: 'symptom_joined'; symptom: IncidentReference }
  /** The cause resolved: this incident stands alone; its next failing evaluation pages. */
  | { type: 'released'; cause: IncidentReference }
  /** Released, and its check still fails: it pages now. */
  | { type: 'still_failing' };

export interface IncidentReference {
  id: string;
  check: string;
  asset: string;
}

/** What runbooks do about an incident, as its notifications tell it. */
export type RecoveryChange =
  | { type: 'recovery_started'; runbook: string; run: string; pageHeld: boolean }
  | { type: 'runbook_note'; runbook: string; run: string; text: string; approval?: { step: string } }
  | { type: 'recovery_failed'; runbook: string; run: string; reason: string; attempts: Record<string, unknown>[] }
  | { type: 'recovered'; runbook: string; run: string }
  /** How far a long step has got: edits the chat message in place, and nothing else hears of it. */
  | { type: 'runbook_progress'; runbook: string; run: string; step: string; done: number; total: number; message: string };

export interface NotificationChannels {
  console: boolean;
  /** Slack delivery is configured (a bot token); the owner's channel still has to exist. */
  slack: boolean;
}

export interface PlanInput {
  change: IncidentChange;
  incident: IncidentRow;
  route: NotificationRoute;
  channels: NotificationChannels;
  pageOn: readonly IncidentRow['severity'][];
  /** The active silence covering this check, if any. */
  silencedBy?: { id: string; reason: string } | undefined;
  /** A runbook is trying to recover the incident first: PagerDuty is not triggered yet. */
  holdPage?: boolean;
}

export interface NotificationPlan {
  items: OutboxItem[];
  /** PagerDuty is told about this incident for the first time. */
  pages: boolean;
}

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

export function planNotifications(input: PlanInput): NotificationPlan {
  if (input.silencedBy !== undefined) return { items: [], pages: false };
  const { incident } = input;
  const text = describeIncidentChange(input.change, incident);
  const payload = { change: input.change.type, text, incident: incidentSummary(incident), finding: incident.last_finding, ...runbookDetail(input.change) };
  const items: OutboxItem[] = [];
  const add = (channel: OutboxChannel, extra: Record<string, unknown> = {}) => items.push({ incidentId: incident.id, channel, payload: { ...payload, ...extra } });
  // Progress only moves a bar on the chat message; the log already has every report.
  const progressOnly = input.change.type === 'runbook_progress';
  if (input.channels.console && !progressOnly) add('console');
  if (input.channels.slack && input.route.slackChannel !== undefined) add('slack', { slackChannel: input.route.slackChannel });
  const action = input.incident.caused_by === null || input.change.type === 'grouped' ? pagerDutyAction(input) : undefined;
  if (action !== undefined) add('pagerduty', { action });
  return { items, pages: action === 'trigger' && incident.paged_at === null };
}

/** What a chat message needs beyond the text: the attempts of a failed run, the step awaiting approval. */
function runbookDetail(change: IncidentChange): Record<string, unknown> {
  if (change.type === 'recovery_failed') return { runbook_attempts: change.attempts };
  if (change.type === 'runbook_note' && change.approval !== undefined) return { approval: { run: change.run, step: change.approval.step } };
  if (change.type === 'runbook_progress') return { step_progress: { step: change.step, done: change.done, total: change.total, message: change.message } };
  return {};
}

function pagerDutyAction(input: PlanInput): PagerDutyAction | undefined {
  const { change, incident } = input;
  if (!input.route.pagerduty) return undefined;
  const known = incident.paged_at !== null;
  const pages = input.pageOn.includes(incident.severity);
  switch (change.type) {
    case 'opened':
    case 'severity_raised':
    case 'flapping':
      // A flapping notice on an incident PagerDuty already has changes nothing there.
      return pages && !known && input.holdPage !== true ? 'trigger' : undefined;
    case 'recovery_failed':
      // Paged already (severities that page at once): a trigger with the same dedup key updates
      // that page with what the runbook tried.
      return pages ? 'trigger' : undefined;
    case 'still_failing':
      return pages && !known ? 'trigger' : undefined;
    case 'grouped':
      // It paged before its cause was known (the cause's page now covers it): close that page.
      return known ? 'resolve' : undefined;
    case 'acknowledged':
      return known ? 'acknowledge' : undefined;
    case 'resolved':
    case 'resolved_by_hand':
      return known ? 'resolve' : undefined;
    default:
      return undefined;
  }
}

function incidentSummary(incident: IncidentRow): Record<string, unknown> {
  return {
    id: incident.id,
    dedupKey: incident.dedup_key,
    check: incident.check_id,
    kind: incident.kind,
    asset: incident.asset,
    severity: incident.severity,
    status: incident.status,
    flapping: incident.flapping,
    owner: incident.owner,
    openedAt: incident.opened_at.toISOString(),
    causedBy: incident.caused_by,
    blastRadius: incident.blast_radius,
  };
}

/** One line a person understands, led by what happened. */
export function describeIncidentChange(change: IncidentChange, incident: IncidentRow): string {
  // Findings' messages start with the asset, so the subject need not repeat it.
  const subject = `incident #${incident.id} ${incident.kind}`;
  const evidence = incident.last_finding.message;
  switch (change.type) {
    case 'opened':
      return `OPENED (${incident.severity}) ${subject}: ${evidence}${incident.blast_radius === null ? '' : ` Blast radius: ${incident.blast_radius.summary}`}`;
    case 'severity_raised':
      return `NOW ${change.to.toUpperCase()} ${subject}: ${evidence}`;
    case 'flapping':
      return `FLAPPING ${subject}: it keeps failing and recovering; pipewarden stays quiet about it until it has been stable for a while. Latest: ${evidence}`;
    case 'reminded':
      return `STILL OPEN ${subject} since ${incident.opened_at.toISOString()}: ${evidence}`;
    case 'resolved':
      return `RESOLVED ${subject}: ${evidence}`;
    case 'acknowledged':
      return `ACKNOWLEDGED ${subject} ${incident.asset} by ${change.by} (${change.source})`;
    case 'resolved_by_hand':
      return `RESOLVED ${subject} ${incident.asset} by ${change.by} (${change.source})`;
    case 'reopened':
      return `REOPENED ${subject} ${incident.asset} by ${change.by} (${change.source}): ${evidence}`;
    case 'silenced':
      return `SILENCED ${subject} ${incident.asset} by ${change.by} (${change.source}) until ${change.until} (silence #${change.silence}): ${change.reason}`;
    case 'marked_expected':
      return `MARKED EXPECTED ${subject} ${incident.asset} by ${change.by} (${change.source}): the ${change.bucket} bucket of ${change.check} leaves its baseline`;
    case 'grouped':
      return `GROUPED ${subject} ${incident.asset}: caused upstream by incident #${change.cause.id} (${change.cause.check}); it pages as part of that incident, not on its own. ${evidence}`;
    case 'symptom_joined':
      return `JOINED ${subject}: incident #${change.symptom.id} (${change.symptom.check}) downstream is explained by it and joins it.`;
    case 'released':
      return `UPSTREAM RESOLVED ${subject} ${incident.asset}: its cause, incident #${change.cause.id} (${change.cause.check}), resolved; it is judged on its own again and pages if its check still fails.`;
    case 'still_failing':
      return `STILL FAILING (${incident.severity}) ${subject} after its upstream cause resolved: ${evidence}`;
    case 'status_changed':
      return `${subject} is now ${change.to}: ${evidence}`;
    case 'recovery_started':
      return `RECOVERING ${subject}: running runbook ${change.runbook} (run #${change.run})${change.pageHeld ? ' before paging' : '; paged already'}. ${evidence}`;
    case 'runbook_note':
      return `RUNBOOK ${change.runbook} (run #${change.run}) on ${subject}: ${change.text}`;
    case 'recovery_failed':
      return `RECOVERY FAILED ${subject}: runbook ${change.runbook} (run #${change.run}) ${change.reason}. ${evidence}`;
    case 'recovered':
      return `RECOVERED ${subject} by runbook ${change.runbook} (run #${change.run}): the check passes again.`;
    case 'runbook_progress':
      return `RUNBOOK ${change.runbook} (run #${change.run}) on ${subject}, step ${change.step}: ${change.message}`;
  }
}
