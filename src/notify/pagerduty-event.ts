// Builds the Events API v2 body for one incident change: pure, from the incident and its evidence
// to the JSON PagerDuty enqueues. PagerDuty's documented limits are enforced here, because a body
// it rejects is a page nobody gets: dedup_key ≤ 255 characters, summary ≤ 1024, the whole event
// ≤ 512 KB. Each is made to fit rather than refused: a long dedup key keeps a readable prefix
// plus a hash (so it is the same on every replica and after every restart), a long summary is
// cut with an ellipsis, and evidence too large to send is replaced by a note pointing back here.
//
// The output is our own type rather than pdjs's EventPayloadV2, which lacks `client` and is not
// exported from the package root; the field names are PagerDuty's.

import { createHash } from 'node:crypto';
import { DeliveryError } from '../errors.ts';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export const PAGERDUTY_SEVERITIES: readonly PagerDutySeverity[] = ['critical', 'error', 'warning', 'info'];
export const MAX_DEDUP_KEY_LENGTH = 255;
export const MAX_SUMMARY_LENGTH = 1024;
/** PagerDuty refuses events over 512 KB; stay a little under for headers and rounding. */
export const MAX_EVENT_BYTES = 500 * 1024;

export interface PagerDutyLink {
  href: string;
  text?: string;
}

/** What pipewarden knows about one incident change, in its own words. */
export interface IncidentPage {
  action: PagerDutyAction;
  /** The owner's Events v2 integration key. Never logged, never in an error message. */
  routingKey: string;
  incident: {
    id: string;
    /** The incident's key from the state DB: the same on every replica and after restarts. */
    dedupKey: string;
    /** One line a person understands, led by what happened. */
    summary: string;
    severity: PagerDutySeverity;
    /** When the failing finding was measured. */
    detectedAt?: Date;
  };
  check: { id: string; kind: string; column?: string };
  asset: string;
  owner?: string;
  /** Observed vs expected and whatever else explains the finding. */
  evidence: Record<string, unknown>;
  /** Downstream assets and exposures that read the failing asset (src/lineage/blast-radius.ts), bounded. */
  blastRadius?: Record<string, unknown>;
  /** What runbooks already tried, in order. */
  attempts?: readonly Record<string, unknown>[];
  /** Back to Grafana and the like. */
  links?: readonly PagerDutyLink[];
}

export interface PagerDutyEventBody {
  routing_key: string;
  event_action: PagerDutyAction;
  dedup_key: string;
  client?: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: PagerDutyLink[];
}

export function buildPagerDutyEvent(page: IncidentPage): PagerDutyEventBody {
  if (page.routingKey.trim() === '') throw invalid('the routing key is empty');
  const base = { routing_key: page.routingKey, event_action: page.action, dedup_key: fitDedupKey(page.incident.dedupKey) };
  if (page.action !== 'trigger') return base;
  const event: PagerDutyEventBody = { ...base, client: 'pipewarden', payload: triggerPayload(page) };
  const links = validLinks(page.links ?? []);
  if (links.length > 0) event.links = links;
  return fitEventSize(event, page.incident.id);
}

function triggerPayload(page: IncidentPage): NonNullable<PagerDutyEventBody['payload']> {
  const { incident } = page;
  if (!PAGERDUTY_SEVERITIES.includes(incident.severity)) throw invalid(`severity "${String(incident.severity)}" is not one of ${PAGERDUTY_SEVERITIES.join(', ')}`);
  const summary = incident.summary.trim();
  if (summary === '') throw invalid(`incident ${incident.id} has an empty summary`);
  if (page.asset.trim() === '') throw invalid(`incident ${incident.id} has no asset`);
  return {
    summary: truncateText(summary, MAX_SUMMARY_LENGTH),
    // PagerDuty wants "the unique location of the affected system": for us that is the asset.
    source: page.asset,
    severity: incident.severity,
    ...(incident.detectedAt === undefined ? {} : { timestamp: incident.detectedAt.toISOString() }),
    component: page.check.column ?? page.check.kind,
    ...(page.owner === undefined ? {} : { group: page.owner }),
    class: page.check.kind,
    custom_details: customDetails(page),
  };
}

function customDetails(page: IncidentPage): Record<string, unknown> {
  return {
    incident: page.incident.id,
    check: page.check.id,
    asset: page.asset,
    owner: page.owner ?? null,
    evidence: page.evidence,
    ...(page.blastRadius === undefined ? {} : { blast_radius: page.blastRadius }),
    ...(page.attempts === undefined ? {} : { runbook_attempts: page.attempts }),
  };
}

/** The key itself when it fits; otherwise a readable prefix and the SHA-256 of the whole key. */
export function fitDedupKey(key: string): string {
  if (key === '') throw invalid('the dedup key is empty');
  if (key.length <= MAX_DEDUP_KEY_LENGTH) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  const prefix = cutBeforeSurrogate(key, MAX_DEDUP_KEY_LENGTH - hash.length - 1);
  return `${prefix}~${hash}`;
}

/** `text` when it fits in `max` UTF-16 units, else cut (never inside a character) with "…". */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${cutBeforeSurrogate(text, max - 1)}…`;
}

function cutBeforeSurrogate(text: string, length: number): string {
  const last = text.charCodeAt(length - 1);
  const splitsPair = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, splitsPair ? length - 1 : length);
}

function validLinks(links: readonly PagerDutyLink[]): PagerDutyLink[] {
  return links.map((link) => {
    if (!URL.canParse(link.href) || !['http:', 'https:'].includes(new URL(link.href).protocol)) {
      throw invalid(`link "${link.href}" is not an http(s) URL`);
    }
    return link.text === undefined ? { href: link.href } : { href: link.href, text: link.text };
  });
}

/** Keeps the page when the evidence is too big to send: the details are replaced by a pointer. */
function fitEventSize(event: PagerDutyEventBody, incidentId: string): PagerDutyEventBody {
  const bytes = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (bytes <= MAX_EVENT_BYTES || event.payload === undefined) return event;
  const omitted = `the evidence (${bytes} bytes) is too large for PagerDuty; see \`pipewarden incidents\` for incident ${incidentId}`;
  return { ...event, payload: { ...event.payload, custom_details: { incident: incidentId, evidence_omitted: omitted } } };
}

function invalid(problem: string): DeliveryError {
  return new DeliveryError('pagerduty_event_invalid', `Cannot build a PagerDuty event: ${problem}.`);
}
