// One timeline entry as a line a person reads — `acknowledged by U0ANA via slack`,
// `runbook_escalated by runbook:reload#3 via runbook: the feed is still stale` — the same in
// `pipewarden incidents show` and `/pipewarden explain`.

import type { IncidentEventRow, IncidentRow } from '../store/incident-records.ts';

/** What an entry says, from whichever of its detail fields carries it (a finding, an error, a runbook note or reason). */
const SAID_FIELDS = ['message', 'error', 'text', 'reason'] as const;

export function timelineText(event: IncidentEventRow): string {
  const who = [event.actor, event.source].filter((part) => part !== null).join(' via ');
  const change = typeof event.detail.change === 'string' ? ` (${event.detail.change})` : '';
  const said = SAID_FIELDS.map((field) => event.detail[field]).find((value) => typeof value === 'string');
  const message = said === undefined ? '' : `: ${String(said)}`;
  return `${event.type}${change}${who === '' ? '' : ` by ${who}`}${message}`;
}

const SYMPTOMS_LISTED = 10;

/** Where an incident sits in its failure: the cause it joined, the symptoms it explains, who reads its asset. */
export function groupingLines(incident: IncidentRow, symptoms: readonly IncidentRow[]): string[] {
  const lines: string[] = [];
  if (incident.caused_by !== null) lines.push(`Caused upstream by incident #${incident.caused_by}: it pages as part of that one.`);
  if (symptoms.length > 0) {
    const listed = symptoms.slice(0, SYMPTOMS_LISTED).map((symptom) => `#${symptom.id} ${symptom.check_id}`);
    const more = symptoms.length > SYMPTOMS_LISTED ? ` and ${symptoms.length - SYMPTOMS_LISTED} more` : '';
    lines.push(`Explains ${symptoms.length} downstream incident${symptoms.length === 1 ? '' : 's'}: ${listed.join(', ')}${more}.`);
  }
  if (incident.blast_radius !== null) lines.push(`Blast radius: ${incident.blast_radius.summary}`);
  return lines;
}
