// The incident lifecycle of one check, as a pure function: from what pipewarden remembers about
// the check (its tracking), one new evaluation and the settings, the new tracking and what
// happened (opened, escalated, resolved, flapping, reminded). No I/O and no clock: time comes in
// as an argument, and the store applies a step in one transaction together with the timeline
// events and outbox rows it causes.
//
// Rules:
// - Pending (Prometheus `for`): an incident opens once a streak reaches its pending count: fail
//   (consecutive failing evaluations), warn (warning or failing), error (could not measure).
//   The severity is the highest whose streak is long enough (critical > error > warning), and
//   it only ever rises while the incident is open.
// - It resolves after `resolveAfter` consecutive ok evaluations.
// - Flapping: when opening or resolving would make more than `flapMaxChanges` opens and resolves
//   of this check within `flapWindowMs`, the incident stays open and is marked flapping instead,
//   with one notice. A flapping incident resolves only once the check has been ok for a whole
//   flap window; in between it notifies nothing but a rise in severity.
// - Reminder: an open (unacknowledged, not flapping) incident is announced again every
//   `renotifyIntervalMs`.

import type { FindingStatus } from '../types.ts';

/** PagerDuty's words: fail → critical (pages by default), error → error, warn → warning. */
export type IncidentSeverity = 'warning' | 'error' | 'critical';

export type ProblemStatus = Exclude<FindingStatus, 'ok'>;

export interface LifecycleSettings {
  /** Length of each streak (see the rules above) before an incident opens at its severity. */
  pendingEvaluations: Readonly<Record<ProblemStatus, number>>;
  /** Consecutive ok evaluations that resolve an open incident. */
  resolveAfter: number;
  flapWindowMs: number;
  flapMaxChanges: number;
  /** Remind people of an incident still open after this long; undefined: never. */
  renotifyIntervalMs?: number | undefined;
}

export interface ActiveIncident {
  severity: IncidentSeverity;
  status: 'open' | 'acknowledged';
  openedAt: number;
  lastNotifiedAt: number;
  flapping: boolean;
}

export interface CheckTracking {
  /** The current streaks: warn counts warn and fail, error and fail only themselves. */
  streaks: Readonly<Record<ProblemStatus, number>>;
  okStreak: number;
  /** When the current run of ok evaluations began (epoch ms); undefined while not ok. */
  okSince?: number | undefined;
  /** The previous evaluation's status. */
  lastStatus?: FindingStatus | undefined;
  incident?: ActiveIncident | undefined;
  /** Recent opens and resolves of this check (epoch ms), for flap detection. */
  changes: readonly number[];
}

export type LifecycleEvent =
  | { type: 'opened'; severity: IncidentSeverity }
  | { type: 'severity_raised'; from: IncidentSeverity; to: IncidentSeverity }
  | { type: 'status_changed'; from: FindingStatus; to: FindingStatus }
  | { type: 'flapping'; severity: IncidentSeverity }
  | { type: 'reminded' }
  | { type: 'resolved' };

export interface LifecycleStep {
  tracking: CheckTracking;
  events: LifecycleEvent[];
}

const LEVELS: readonly ProblemStatus[] = ['warn', 'error', 'fail'];
const SEVERITY_OF: Readonly<Record<ProblemStatus, IncidentSeverity>> = { warn: 'warning', error: 'error', fail: 'critical' };
const SEVERITY_RANK: Readonly<Record<IncidentSeverity, number>> = { warning: 1, error: 2, critical: 3 };

export const NEW_TRACKING: CheckTracking = { streaks: { warn: 0, error: 0, fail: 0 }, okStreak: 0, changes: [] };

/** One evaluation of the check at `now` (epoch ms). */
export function advanceIncident(tracking: CheckTracking, status: FindingStatus, settings: LifecycleSettings, now: number): LifecycleStep {
  const events: LifecycleEvent[] = [];
  const next: CheckTracking = {
    ...tracking,
    streaks: nextStreaks(tracking.streaks, status, settings),
    okStreak: status === 'ok' ? Math.min(tracking.okStreak + 1, Math.max(1, settings.resolveAfter)) : 0,
    okSince: status === 'ok' ? (tracking.okSince ?? now) : undefined,
    lastStatus: status,
    changes: tracking.changes.filter((at) => at > now - settings.flapWindowMs),
  };
  if (next.incident !== undefined && tracking.lastStatus !== undefined && tracking.lastStatus !== status) {
    events.push({ type: 'status_changed', from: tracking.lastStatus, to: status });
  }
  if (status === 'ok') resolveIfDue(next, settings, now, events);
  else openOrRaise(next, settings, now, events);
  if (status !== 'ok') remindIfDue(next, settings, now, events);
  return { tracking: next, events };
}

/** A person acknowledged the incident (Slack, PagerDuty, CLI): reminders stop. */
export function acknowledgeIncident(tracking: CheckTracking): CheckTracking {
  if (tracking.incident === undefined || tracking.incident.status === 'acknowledged') return tracking;
  return { ...tracking, incident: { ...tracking.incident, status: 'acknowledged' } };
}

/**
 * A person resolved the incident. The streaks start over, so a check that still fails opens a
 * new incident only after its pending period, not on the very next evaluation.
 */
export function resolveIncidentByHand(tracking: CheckTracking, now: number): CheckTracking {
  if (tracking.incident === undefined) return tracking;
  return { ...tracking, incident: undefined, streaks: NEW_TRACKING.streaks, okStreak: 0, okSince: undefined, changes: [...tracking.changes, now] };
}

// A failing evaluation also continues a warning streak (the data is at least that bad); not
// being able to measure is a different problem and has its own streak.
// Streaks stop counting where they stop mattering (their pending count; okStreak at
// resolveAfter), so a check that stays ok or stays failing leaves its tracking unchanged and
// the store has nothing to write.
function nextStreaks(streaks: Readonly<Record<ProblemStatus, number>>, status: FindingStatus, settings: LifecycleSettings): Record<ProblemStatus, number> {
  const grow = (level: ProblemStatus, continues: boolean): number => (continues ? Math.min(streaks[level] + 1, Math.max(1, settings.pendingEvaluations[level])) : 0);
  return { warn: grow('warn', status === 'warn' || status === 'fail'), error: grow('error', status === 'error'), fail: grow('fail', status === 'fail') };
}

/** The highest level whose streak has lasted its pending count. */
function dueSeverity(streaks: Readonly<Record<ProblemStatus, number>>, settings: LifecycleSettings): IncidentSeverity | undefined {
  let due: IncidentSeverity | undefined;
  for (const level of LEVELS) if (streaks[level] > 0 && streaks[level] >= settings.pendingEvaluations[level]) due = SEVERITY_OF[level];
  return due;
}

function openOrRaise(next: CheckTracking, settings: LifecycleSettings, now: number, events: LifecycleEvent[]): void {
  const due = dueSeverity(next.streaks, settings);
  if (due === undefined) return;
  const incident = next.incident;
  if (incident === undefined) {
    const flapping = next.changes.length >= settings.flapMaxChanges;
    next.incident = { severity: due, status: 'open', openedAt: now, lastNotifiedAt: now, flapping };
    next.changes = [...next.changes, now];
    events.push(flapping ? { type: 'flapping', severity: due } : { type: 'opened', severity: due });
    return;
  }
  if (SEVERITY_RANK[due] > SEVERITY_RANK[incident.severity]) {
    events.push({ type: 'severity_raised', from: incident.severity, to: due });
    next.incident = { ...incident, severity: due, lastNotifiedAt: now };
  }
}

function resolveIfDue(next: CheckTracking, settings: LifecycleSettings, now: number, events: LifecycleEvent[]): void {
  const incident = next.incident;
  if (incident === undefined || next.okStreak < settings.resolveAfter) return;
  if (incident.flapping) {
    if (now - (next.okSince ?? now) < settings.flapWindowMs) return;
  } else if (next.changes.length >= settings.flapMaxChanges) {
    next.incident = { ...incident, flapping: true, lastNotifiedAt: now };
    events.push({ type: 'flapping', severity: incident.severity });
    return;
  }
  next.incident = undefined;
  next.changes = [...next.changes, now];
  events.push({ type: 'resolved' });
}

function remindIfDue(next: CheckTracking, settings: LifecycleSettings, now: number, events: LifecycleEvent[]): void {
  const incident = next.incident;
  if (incident === undefined || settings.renotifyIntervalMs === undefined || incident.status !== 'open' || incident.flapping) return;
  // Anything announced in this step already told people.
  if (events.some((event) => event.type !== 'status_changed')) return;
  if (now - incident.lastNotifiedAt < settings.renotifyIntervalMs) return;
  next.incident = { ...incident, lastNotifiedAt: now };
  events.push({ type: 'reminded' });
}
