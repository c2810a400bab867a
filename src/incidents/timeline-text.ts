// One timeline entry as a line a person reads — `acknowledged by U0ANA via slack`,
// `runbook_escalated by runbook:reload#3 via runbook: the feed is still stale` — the same in
// `pipewarden incidents show` and `/pipewarden explain`.

import type { IncidentEventRow } from '../store/incident-records.ts';

/** What an entry says, from whichever of its detail fields carries it (a finding, an error, a runbook note or reason). */
const SAID_FIELDS = ['message', 'error', 'text', 'reason'] as const;

export function timelineText(event: IncidentEventRow): string {
  const who = [event.actor, event.source].filter((part) => part !== null).join(' via ');
  const change = typeof event.detail.change === 'string' ? ` (${event.detail.change})` : '';
  const said = SAID_FIELDS.map((field) => event.detail[field]).find((value) => typeof value === 'string');
  const message = said === undefined ? '' : `: ${String(said)}`;
  return `${event.type}${change}${who === '' ? '' : ` by ${who}`}${message}`;
}
