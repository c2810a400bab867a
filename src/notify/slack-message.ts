// An incident's Slack message in Block Kit, from the incident as it is now: pure (no clock, no
// I/O), so the deliverer only decides when to post or edit it.
//
// What the message shows, top to bottom: what broke in one line; state (and who acknowledged or
// resolved it), severity, owner; observed against expected; runbook progress when a runbook has
// acted; a Grafana link when `notifications.grafana_url` is set; the buttons the inbound side of
// the Slack app answers (action ids below, each with the incident id as its value).
//
// Everything that comes from data (asset and table names, finding messages, runbook notes, who
// acknowledged) is escaped for mrkdwn (&, <, >): a table named `<!channel>` must not ping a
// channel, and `<https://x|y>` in a message must not become a link. Texts are cut to Slack's
// limits (section text 3000, button text 75, fallback text kept short) with an ellipsis.

import type { Finding } from '../types.ts';

/** Stable action ids: src/chat/ dispatches on them. The value of each is the incident id. */
export const SLACK_ACTIONS = {
  acknowledge: 'pipewarden_acknowledge',
  resolve: 'pipewarden_resolve',
  silence1h: 'pipewarden_silence_1h',
  runRunbook: 'pipewarden_run_runbook',
  markExpected: 'pipewarden_mark_expected',
  approve: 'pipewarden_approve',
  reject: 'pipewarden_reject',
} as const;

export type RunbookChange = 'recovery_started' | 'runbook_note' | 'recovery_failed' | 'recovered';

/** What a runbook last did about the incident, as the outbox items told it. */
export interface RunbookProgress {
  change: RunbookChange;
  text: string;
  attempts?: Record<string, unknown>[] | undefined;
  /** A runbook `approve` step waiting for a decision: the message offers Approve / Reject. */
  approval?: { run: string; step: string } | undefined;
  /** How far a long step (a backfill) has got, while the run is still going. */
  step?: StepProgress | undefined;
}

export interface StepProgress {
  step: string;
  done: number;
  total: number;
  message: string;
}

export interface SlackIncidentView {
  id: string;
  check: string;
  kind: string;
  asset: string;
  severity: string;
  status: 'open' | 'acknowledged' | 'resolved';
  owner: string | null;
  flapping?: boolean | undefined;
  acknowledgedBy?: string | null | undefined;
  resolvedBy?: string | null | undefined;
  finding: Finding;
  runbook?: RunbookProgress | null | undefined;
  /** The incident upstream that explains this one (root-cause grouping). */
  causedBy?: string | null | undefined;
  /** Who reads the asset, in one line (src/lineage/blast-radius.ts). */
  blastRadius?: string | null | undefined;
}

export interface SlackMessage {
  /** Fallback text for notifications and clients without blocks (mrkdwn, escaped). */
  text: string;
  blocks: Record<string, unknown>[];
}

const SECTION_LIMIT = 3000;
const FIELD_LIMIT = 2000;
const FALLBACK_LIMIT = 300;
const ATTEMPTS_SHOWN = 5;

export const RUNBOOK_CHANGES: readonly RunbookChange[] = ['recovery_started', 'runbook_note', 'recovery_failed', 'recovered'];

/** Escapes Slack's three control characters; Slack asks for exactly these. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts to `limit` characters with an ellipsis, never inside an escape like `&amp;`. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = text.slice(0, limit - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

const STATE_ICONS: Record<SlackIncidentView['status'], string> = { open: ':red_circle:', acknowledged: ':large_yellow_circle:', resolved: ':white_check_mark:' };

export function buildIncidentMessage(incident: SlackIncidentView, options: { grafanaUrl?: string | undefined } = {}): SlackMessage {
  const e = escapeMrkdwn;
  const headline = `${STATE_ICONS[incident.status]} *#${e(incident.id)} ${e(incident.kind)} ${e(incident.asset)}*: ${e(incident.finding.message)}`;
  const blocks: Record<string, unknown>[] = [
    section(headline),
    {
      type: 'section',
      fields: [
        field(`*State*\n${stateLine(incident)}`),
        field(`*Severity*\n${e(incident.severity)}`),
        field(`*Owner*\n${incident.owner === null ? '(none)' : e(incident.owner)}`),
        field(`*Check*\n\`${e(incident.check)}\``),
        field(`*Observed*\n${formatValue(incident.finding.observed)}`),
        field(`*Expected*\n${formatExpected(incident.finding)}`),
      ],
    },
  ];
  const context = contextLines(incident);
  if (context !== '') blocks.push(section(context));
  if (incident.runbook) blocks.push(section(runbookLines(incident.runbook)));
  const approval = incident.runbook?.change === 'runbook_note' ? incident.runbook.approval : undefined;
  if (approval !== undefined && incident.status !== 'resolved') blocks.push(approvalButtons(approval));
  if (options.grafanaUrl !== undefined) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${linkTarget(options.grafanaUrl)}|Open in Grafana>` }] });
  if (incident.status !== 'resolved') blocks.push({ type: 'actions', block_id: `pipewarden_incident_${incident.id}`, elements: buttons(incident) });
  const fallback = truncate(`[${incident.status}] #${e(incident.id)} ${e(incident.kind)} ${e(incident.asset)}: ${e(incident.finding.message)}`, FALLBACK_LIMIT);
  return { text: fallback, blocks };
}

/** A thread reply: one change of the timeline, as text. */
export function buildThreadReply(changeText: string): SlackMessage {
  const text = truncate(escapeMrkdwn(changeText), SECTION_LIMIT);
  return { text, blocks: [section(text)] };
}

/** Where it comes from and what it reaches: the cause upstream, the blast radius downstream. */
function contextLines(incident: SlackIncidentView): string {
  const lines: string[] = [];
  if (incident.causedBy !== null && incident.causedBy !== undefined) lines.push(`:arrow_up: *Caused upstream* by incident #${escapeMrkdwn(incident.causedBy)}: it pages as part of that one`);
  if (incident.blastRadius !== null && incident.blastRadius !== undefined) lines.push(`:boom: *Blast radius*: ${escapeMrkdwn(incident.blastRadius)}`);
  return lines.join('\n');
}

function stateLine(incident: SlackIncidentView): string {
  const by = incident.status === 'acknowledged' ? incident.acknowledgedBy : incident.status === 'resolved' ? incident.resolvedBy : null;
  const flapping = incident.flapping === true ? ' (flapping)' : '';
  return `${incident.status}${by ? ` by ${escapeMrkdwn(by)}` : ''}${flapping}`;
}

function runbookLines(progress: RunbookProgress): string {
  const label: Record<RunbookChange, string> = {
    recovery_started: ':gear: *Runbook running*',
    runbook_note: ':gear: *Runbook*',
    recovery_failed: ':x: *Runbook failed*',
    recovered: ':white_check_mark: *Recovered by runbook*',
  };
  const lines = [`${label[progress.change]}: ${escapeMrkdwn(progress.text)}`];
  if (progress.step !== undefined) lines.push(stepProgressLine(progress.step));
  const attempts = progress.attempts ?? [];
  for (const attempt of attempts.slice(0, ATTEMPTS_SHOWN)) lines.push(`• ${escapeMrkdwn(describeAttempt(attempt))}`);
  if (attempts.length > ATTEMPTS_SHOWN) lines.push(`• … and ${attempts.length - ATTEMPTS_SHOWN} more`);
  return lines.join('\n');
}

const BAR_CELLS = 10;

/** `▰▰▰▱▱▱▱▱▱▱ 30% · step: backfill 9/30 partitions` — readable at a glance in a channel. */
export function stepProgressLine(progress: StepProgress): string {
  const ratio = progress.total <= 0 ? 1 : Math.min(1, Math.max(0, progress.done / progress.total));
  const filled = Math.floor(ratio * BAR_CELLS); // full only when done
  const bar = '▰'.repeat(filled) + '▱'.repeat(BAR_CELLS - filled);
  return `${bar} ${Math.floor(ratio * 100)}% · \`${escapeMrkdwn(progress.step)}\`: ${escapeMrkdwn(progress.message)}`;
}

/** `step (action): outcome` from whatever fields an attempt record has. */
function describeAttempt(attempt: Record<string, unknown>): string {
  const text = (key: string): string | undefined => (typeof attempt[key] === 'string' || typeof attempt[key] === 'number' ? String(attempt[key]) : undefined);
  const step = text('step') ?? text('name') ?? 'step';
  const action = text('action');
  const outcome = text('status') ?? text('outcome');
  const error = text('error');
  return `${step}${action ? ` (${action})` : ''}${outcome ? `: ${outcome}` : ''}${error ? ` — ${error}` : ''}`;
}

function formatValue(value: number | null): string {
  if (value === null) return 'could not measure';
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function formatExpected(finding: Finding): string {
  const range = finding.expected;
  if (range === undefined) return '—';
  const low = range.low ?? null;
  const high = range.high ?? null;
  if (low !== null && high !== null) return `${formatValue(low)} – ${formatValue(high)}`;
  if (high !== null) return `≤ ${formatValue(high)}`;
  if (low !== null) return `≥ ${formatValue(low)}`;
  return '—';
}

function buttons(incident: SlackIncidentView): Record<string, unknown>[] {
  const button = (text: string, actionId: string, style?: 'primary' | 'danger'): Record<string, unknown> => ({
    type: 'button',
    text: { type: 'plain_text', text },
    action_id: actionId,
    value: incident.id,
    ...(style === undefined ? {} : { style }),
  });
  const list = [];
  if (incident.status === 'open') list.push(button('Acknowledge', SLACK_ACTIONS.acknowledge, 'primary'));
  list.push(button('Resolve', SLACK_ACTIONS.resolve), button('Silence 1h', SLACK_ACTIONS.silence1h), button('Run runbook', SLACK_ACTIONS.runRunbook), button('Mark expected', SLACK_ACTIONS.markExpected));
  return list;
}

/** Approve / Reject for a runbook's `approve` step; the value names the run and the step (`RUN:STEP`). */
function approvalButtons(approval: { run: string; step: string }): Record<string, unknown> {
  const value = `${approval.run}:${approval.step}`;
  return {
    type: 'actions',
    block_id: `pipewarden_approval_${approval.run}`,
    elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: SLACK_ACTIONS.approve, value, style: 'primary' },
      { type: 'button', text: { type: 'plain_text', text: 'Reject' }, action_id: SLACK_ACTIONS.reject, value, style: 'danger' },
    ],
  };
}

/** A link target must not close the `<url|label>` syntax early. */
function linkTarget(url: string): string {
  return url.replace(/[<>|]/g, encodeURIComponent);
}

function section(text: string): Record<string, unknown> {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_LIMIT) } };
}

function field(text: string): Record<string, unknown> {
  return { type: 'mrkdwn', text: truncate(text, FIELD_LIMIT) };
}
