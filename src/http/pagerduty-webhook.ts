// The PagerDuty webhooks v3 envelope and the incident events pipewarden syncs back: acknowledged,
// resolved and reopened (so acking on a phone shows up in pipewarden and Slack). Every other event
// type is recognised as a valid envelope and reported as `ignored`. Objects are loose: PagerDuty
// adds fields over time, and only the ones read here are checked.
//
// Which pipewarden incident an event is about: PagerDuty copies the Events API `dedup_key` of the
// trigger that opened its incident into the incident's `incident_key`; incidents opened by hand in
// PagerDuty have none (or one pipewarden never sent), and the caller finds nothing to apply.

import { z } from 'zod';

export const SYNCED_EVENT_TYPES = ['incident.acknowledged', 'incident.resolved', 'incident.reopened'] as const;
export type SyncedEventType = (typeof SYNCED_EVENT_TYPES)[number];

/** Who or what acted: a user, or a service/integration (then PagerDuty itself resolved it). */
export interface PagerDutyAgent {
  id: string;
  type: string;
  /** A user's name, a service's name. */
  summary?: string;
}

export interface PagerDutyIncidentEvent {
  kind: 'incident';
  /** Unique per event and repeated on redelivery: the key to deduplicate on. */
  id: string;
  type: SyncedEventType;
  occurredAt: Date;
  agent: PagerDutyAgent | null;
  incident: {
    /** PagerDuty's own incident id, e.g. PGR0VU2. */
    id: string;
    /** The Events API dedup_key that opened it; null for incidents opened another way. */
    incidentKey: string | null;
    status?: string;
    htmlUrl?: string;
  };
}

export interface IgnoredPagerDutyEvent {
  kind: 'ignored';
  id: string;
  type: string;
  occurredAt: Date;
}

export type PagerDutyWebhookEvent = PagerDutyIncidentEvent | IgnoredPagerDutyEvent;

export type WebhookParse = { ok: true; event: PagerDutyWebhookEvent } | { ok: false; problem: string };

const agentSchema = z.looseObject({ id: z.string().min(1), type: z.string().min(1), summary: z.string().optional() });

const envelopeSchema = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: z.string().optional(),
    occurred_at: z.iso.datetime({ offset: true }),
    agent: agentSchema.nullable().optional(),
    data: z.unknown(),
  }),
});

const incidentDataSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('incident'),
  incident_key: z.string().nullable().optional(),
  status: z.string().optional(),
  html_url: z.string().optional(),
});

/** Parses a verified body. Only call this after the signature checked out. */
export function parsePagerDutyWebhook(rawBody: Buffer): WebhookParse {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, problem: `not a webhooks v3 envelope: ${describe(envelope.error)}` };
  const { event } = envelope.data;
  const occurredAt = new Date(event.occurred_at);
  if (!isSynced(event.event_type)) return { ok: true, event: { kind: 'ignored', id: event.id, type: event.event_type, occurredAt } };
  const data = incidentDataSchema.safeParse(event.data);
  if (!data.success) return { ok: false, problem: `${event.event_type} without incident data: ${describe(data.error)}` };
  const agent = event.agent ? { id: event.agent.id, type: event.agent.type, ...(event.agent.summary === undefined ? {} : { summary: event.agent.summary }) } : null;
  const incident = {
    id: data.data.id,
    incidentKey: data.data.incident_key ?? null,
    ...(data.data.status === undefined ? {} : { status: data.data.status }),
    ...(data.data.html_url === undefined ? {} : { htmlUrl: data.data.html_url }),
  };
  return { ok: true, event: { kind: 'incident', id: event.id, type: event.event_type, occurredAt, agent, incident } };
}

function isSynced(type: string): type is SyncedEventType {
  return (SYNCED_EVENT_TYPES as readonly string[]).includes(type);
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
}
