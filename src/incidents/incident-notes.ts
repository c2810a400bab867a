// What people (and runbooks) do around an incident without changing its state — a silence that
// now covers it, its finding marked expected — still belongs on its timeline and in its chat
// thread, so whoever reads the incident later sees why it went quiet or why the baseline moved.
// Each note is one timeline event plus the console / Slack items for it, in the caller's
// transaction. PagerDuty is never told: these are not pages.
//
// A silence note is planned without the silence itself: the note announcing it must go out even
// though everything after it on that check stays quiet.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { notificationChannels } from '../notify/channels.ts';
import { pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import { insertIncidentEvents, insertOutboxItems, selectIncidents, type IncidentRow } from '../store/incident-records.ts';
import type { Actor } from './manual-actions.ts';
import { planNotifications, type IncidentChange } from './plan-notifications.ts';
import { silenceFor, type Silence } from './silences.ts';

export type IncidentNote = Extract<IncidentChange, { type: 'silenced' | 'marked_expected' }>;

/** The most active incidents a silence note is written on: beyond this the silence is a broad one and the notes would flood channels. */
const SILENCE_NOTES_LIMIT = 20;

export async function noteOnIncident(client: pg.ClientBase, config: Config, incident: IncidentRow, note: IncidentNote, detail: Record<string, unknown>, now: Date): Promise<number> {
  await insertIncidentEvents(client, [{ incidentId: incident.id, type: note.type, actor: note.by, source: note.source, detail }], now);
  const plan = planNotifications({ change: note, incident, route: routeForIncident(config, incident), channels: notificationChannels(config), pageOn: pagedSeveritiesFor(config, incident.asset) });
  const items = plan.items.filter((item) => item.channel !== 'pagerduty');
  await insertOutboxItems(client, items, now);
  return items.length;
}

/** Notes a new silence on every active incident it covers; returns those incidents' ids. */
export async function noteSilenceOnCoveredIncidents(client: pg.ClientBase, config: Config, silence: Silence, actor: Actor, now: Date): Promise<string[]> {
  const active = await selectIncidents(client, 'active', 1000);
  const covered = active.filter((incident) => silenceFor([silence], { asset: incident.asset, check: incident.check_id }) !== undefined).slice(0, SILENCE_NOTES_LIMIT);
  const note = { type: 'silenced' as const, by: actor.by, source: actor.source, silence: silence.id, until: silence.endsAt.toISOString(), reason: silence.reason };
  for (const incident of covered) await noteOnIncident(client, config, incident, note, { silence: silence.id, until: note.until, message: silence.reason }, now);
  return covered.map((incident) => incident.id);
}
