// Root-cause grouping: a stale source is the cause, the models and dashboards that read it are
// symptoms. From the dbt lineage (src/store/lineage.ts):
// - an incident opening on an asset downstream of one with an active, ungrouped incident joins
//   that incident (`caused_by`): it is told in both timelines and chat threads, and it does not
//   page on its own (plan-notifications holds PagerDuty back while `caused_by` is set);
// - an incident opening on an asset upstream of active ungrouped incidents becomes their cause:
//   they join it, and a page one of them already sent is closed (the cause's page covers it);
// - when a cause resolves, its symptoms are released: each is judged on its own again, and its
//   next failing evaluation pages it (src/incidents/apply-findings.ts), a passing one resolves it.
// One level only: a cause is never itself grouped, so chains stay short and pages are per cause.
// Everything runs in the caller's transaction.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { blastRadius, blastRadiusDetails, describeBlastRadius } from '../lineage/blast-radius.ts';
import { notificationChannels } from '../notify/channels.ts';
import { pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import {
  selectActiveRootIncidents,
  selectGroupedIncidents,
  setIncidentBlastRadius,
  setIncidentCause,
  type IncidentEventRecord,
  type IncidentRow,
  type OutboxItem,
  type StoredBlastRadius,
} from '../store/incident-records.ts';
import { selectDownstream, selectUpstream } from '../store/lineage.ts';
import { planNotifications, type GroupingChange, type IncidentReference } from './plan-notifications.ts';

/** Lineage deeper than this is not searched for a cause (real dbt projects are far shallower). */
const CAUSE_SEARCH_DEPTH = 20;
/** Symptoms adopted at most when a cause opens: a source under hundreds of models groups the nearest. */
const SYMPTOMS_ADOPTED = 200;

/** A change to tell about grouping, once the incident's own opening has been told. */
export interface GroupingNote {
  incident: IncidentRow;
  change: GroupingChange;
}

export interface Grouping {
  /** The incident as it now is (with its cause or its blast radius set). */
  incident: IncidentRow;
  /** Set when the incident joined a cause. */
  cause?: IncidentRow;
  /** Told after the incident's own opening, so a chat thread starts with what broke. */
  notes: GroupingNote[];
  /** Symptoms adopted whose page was only planned in the caller's batch: drop those PagerDuty items. */
  unpaged: string[];
}

export interface NotificationSink {
  events: IncidentEventRecord[];
  items: OutboxItem[];
}

/**
 * For a newly opened incident: joins the nearest active cause upstream, or else records its blast
 * radius and adopts the active incidents downstream that it explains. `now` also tells which
 * pages were planned in this very batch (paged_at = now) and can still be taken back.
 */
export async function groupNewIncident(client: pg.ClientBase, incident: IncidentRow, now: Date): Promise<Grouping> {
  const cause = await nearestCause(client, incident);
  if (cause !== undefined) {
    const grouped = await setIncidentCause(client, incident.id, cause.id);
    const notes = [
      { incident: grouped, change: { type: 'grouped' as const, cause: reference(cause) } },
      { incident: cause, change: { type: 'symptom_joined' as const, symptom: reference(grouped) } },
    ];
    return { incident: grouped, cause, notes, unpaged: [] };
  }
  const radius = await radiusOf(client, incident.asset);
  const withRadius = radius === null ? incident : await setIncidentBlastRadius(client, incident.id, radius);
  return { incident: withRadius, ...(await adoptSymptoms(client, withRadius, now)) };
}

/** For a cause that resolved: its symptoms are judged on their own again. */
export async function releaseSymptoms(client: pg.ClientBase, cause: IncidentRow, now: Date): Promise<GroupingNote[]> {
  const notes: GroupingNote[] = [];
  for (const symptom of await selectGroupedIncidents(client, cause.id)) {
    const released = await setIncidentCause(client, symptom.id, null, { releasedAt: now });
    notes.push({ incident: released, change: { type: 'released', cause: reference(cause) } });
  }
  return notes;
}

/** Plans the notes' timeline events and notifications into `sink`. */
export function tellGrouping(config: Config, notes: readonly GroupingNote[], sink: NotificationSink): void {
  for (const { incident, change } of notes) {
    const detail = noteDetail(change);
    sink.events.push({ incidentId: incident.id, type: change.type, source: 'pipewarden', detail });
    const plan = planNotifications({ change, incident, route: routeForIncident(config, incident), channels: notificationChannels(config), pageOn: pagedSeveritiesFor(config, incident.asset) });
    sink.items.push(...plan.items);
  }
}

/** The timeline entry's detail: the other incident, and a line `incidents show` and explain print. */
function noteDetail(change: GroupingChange): Record<string, unknown> {
  switch (change.type) {
    case 'grouped':
      return { cause: change.cause.id, check: change.cause.check, message: `caused upstream by incident #${change.cause.id} (${change.cause.check} on ${change.cause.asset})` };
    case 'symptom_joined':
      return { symptom: change.symptom.id, check: change.symptom.check, message: `incident #${change.symptom.id} (${change.symptom.check}) downstream is explained by it` };
    case 'released':
      return { cause: change.cause.id, check: change.cause.check, message: `its cause, incident #${change.cause.id} (${change.cause.check}), resolved` };
    case 'still_failing':
      return {};
  }
}

export function reference(incident: IncidentRow): IncidentReference {
  return { id: incident.id, check: incident.check_id, asset: incident.asset };
}

async function nearestCause(client: pg.ClientBase, incident: IncidentRow): Promise<IncidentRow | undefined> {
  const upstream = await selectUpstream(client, incident.asset, { maxDepth: CAUSE_SEARCH_DEPTH });
  if (upstream.length === 0) return undefined;
  const candidates = (await selectActiveRootIncidents(client, upstream.map((node) => node.asset))).filter((candidate) => candidate.id !== incident.id);
  const depth = new Map(upstream.map((node) => [node.asset, node.depth]));
  // Nearest upstream first; at one depth, the incident that opened first.
  return candidates.sort((a, b) => (depth.get(a.asset) ?? 0) - (depth.get(b.asset) ?? 0) || a.opened_at.getTime() - b.opened_at.getTime())[0];
}

async function adoptSymptoms(client: pg.ClientBase, cause: IncidentRow, now: Date): Promise<{ notes: GroupingNote[]; unpaged: string[] }> {
  const notes: GroupingNote[] = [];
  const unpaged: string[] = [];
  const downstream = await selectDownstream(client, cause.asset, { maxDepth: CAUSE_SEARCH_DEPTH, limit: SYMPTOMS_ADOPTED });
  if (downstream.nodes.length === 0) return { notes, unpaged };
  const symptoms = (await selectActiveRootIncidents(client, downstream.nodes.map((node) => node.asset))).filter((symptom) => symptom.id !== cause.id);
  for (const symptom of symptoms) {
    // A cause of its own becomes a symptom here, and its symptoms move to the new cause with it.
    for (const nested of await selectGroupedIncidents(client, symptom.id)) await setIncidentCause(client, nested.id, cause.id);
    // A page planned in the caller's batch is taken back before it is sent; one already sent is
    // closed by the `grouped` note (planned while paged_at says PagerDuty knows it).
    const pagedNow = symptom.paged_at !== null && symptom.paged_at.getTime() === now.getTime();
    if (pagedNow) unpaged.push(symptom.id);
    const joined = await setIncidentCause(client, symptom.id, cause.id, { unpaged: symptom.paged_at !== null });
    notes.push({ incident: { ...joined, paged_at: pagedNow ? null : symptom.paged_at }, change: { type: 'grouped', cause: reference(cause) } });
    notes.push({ incident: cause, change: { type: 'symptom_joined', symptom: reference(joined) } });
  }
  return { notes, unpaged };
}

async function radiusOf(client: pg.ClientBase, asset: string): Promise<StoredBlastRadius | null> {
  const radius = await blastRadius(client, asset);
  if (radius.totalAssets + radius.totalExposures === 0) return null;
  return { summary: describeBlastRadius(radius), details: { ...blastRadiusDetails(radius) } };
}
