// Scores a detector's alerts against the scenario's labels. An *alarm* is an episode: a check
// alerting on consecutive evaluations counts once, from its first alert (that is when a person
// would be paged). An alarm starting inside an incident's window (start to end plus a grace
// period, for checks that report after the fact) detects it; any other alarm is false.

import type { Finding } from '../../src/types.ts';
import { DAY_MS, INCIDENT_KINDS, scenarioEnd, type IncidentKind, type Scenario } from './scenario.ts';

export interface Alert {
  table: string;
  check: string;
  at: Date;
  /** The finding behind the alert, for `--explain` (pipewarden's alerts carry it). */
  finding?: Finding;
}

export interface KindScore {
  kind: IncidentKind | 'overall';
  incidents: number;
  detected: number;
  recall: number;
  /** Mean hours from incident start to the first alarm that detected it; null if none did. */
  meanDelayHours: number | null;
}

export interface DetectionScore {
  kinds: KindScore[];
  overall: KindScore;
  alarms: number;
  falseAlarms: number;
  /** Incidents no alarm detected, to see what was missed (magnitude as in the labels). */
  missed: Array<{ table: string; kind: IncidentKind; start: Date; magnitude: number }>;
  /** False alarms by check kind (the check id's first part), to show where they come from. */
  falseAlarmsByCheck: Record<string, number>;
  /** Each false alarm (its first alert), oldest first, for `--explain`. */
  falseAlarmList: Alert[];
  precision: number;
  tableDays: number;
  falseAlarmsPer1000TableDays: number;
}

export interface ScoreOptions {
  /** Time between the detector's evaluations: alerts this far apart belong to one alarm. */
  stepMs: number;
  /** How long after an incident's end an alarm still counts as detecting it. */
  graceMs?: number;
}

/** First alert of each episode of consecutive alerts per (table, check). */
export function alarmsOf(alerts: readonly Alert[], stepMs: number): Alert[] {
  const sorted = [...alerts].sort((a, b) => a.at.getTime() - b.at.getTime());
  const lastSeen = new Map<string, number>();
  const alarms: Alert[] = [];
  for (const alert of sorted) {
    const key = `${alert.table}\u0000${alert.check}`;
    const previous = lastSeen.get(key);
    if (previous === undefined || alert.at.getTime() - previous > stepMs * 1.5) alarms.push(alert);
    lastSeen.set(key, alert.at.getTime());
  }
  return alarms;
}

export function scoreDetections(scenario: Scenario, alerts: readonly Alert[], options: ScoreOptions): DetectionScore {
  const grace = options.graceMs ?? DAY_MS;
  const evaluationStart = scenario.evaluationStart.getTime();
  const alarms = alarmsOf(alerts, options.stepMs).filter((alarm) => alarm.at.getTime() >= evaluationStart);
  const incidents = scenario.tables.flatMap((t) => (t.incident ? [{ table: t.name, ...t.incident }] : []));
  const inWindow = (alarm: Alert, incident: (typeof incidents)[number]): boolean =>
    alarm.table === incident.table && alarm.at >= incident.start && alarm.at.getTime() <= incident.end.getTime() + grace;
  const falseAlarmList = alarms.filter((alarm) => !incidents.some((incident) => inWindow(alarm, incident)));
  const falseAlarmsByCheck: Record<string, number> = {};
  for (const alarm of falseAlarmList) {
    const kind = alarm.check.split(':')[0] ?? alarm.check;
    falseAlarmsByCheck[kind] = (falseAlarmsByCheck[kind] ?? 0) + 1;
  }
  const falseAlarms = falseAlarmList.length;
  const delays = new Map<IncidentKind, number[]>();
  const counts = new Map<IncidentKind, number>();
  const missed: DetectionScore['missed'] = [];
  for (const incident of incidents) {
    counts.set(incident.kind, (counts.get(incident.kind) ?? 0) + 1);
    const first = alarms.find((alarm) => inWindow(alarm, incident));
    if (first) delays.set(incident.kind, [...(delays.get(incident.kind) ?? []), (first.at.getTime() - incident.start.getTime()) / 3_600_000]);
    else missed.push({ table: incident.table, kind: incident.kind, start: incident.start, magnitude: incident.magnitude });
  }
  const kinds = INCIDENT_KINDS.filter((kind) => counts.has(kind)).map((kind) => kindScore(kind, counts.get(kind) ?? 0, delays.get(kind) ?? []));
  const overall = kindScore('overall', incidents.length, [...delays.values()].flat());
  const tableDays = countTableDays(scenario);
  return {
    kinds,
    overall,
    alarms: alarms.length,
    falseAlarms,
    missed,
    falseAlarmsByCheck,
    falseAlarmList,
    precision: alarms.length === 0 ? NaN : (alarms.length - falseAlarms) / alarms.length,
    tableDays,
    falseAlarmsPer1000TableDays: tableDays === 0 ? NaN : (falseAlarms / tableDays) * 1000,
  };
}

function kindScore(kind: KindScore['kind'], incidents: number, delays: readonly number[]): KindScore {
  return {
    kind,
    incidents,
    detected: delays.length,
    recall: incidents === 0 ? NaN : delays.length / incidents,
    meanDelayHours: delays.length === 0 ? null : delays.reduce((a, b) => a + b, 0) / delays.length,
  };
}

/** Monitored table-days in the evaluation period; a dropped table stops counting when dropped. */
export function countTableDays(scenario: Scenario): number {
  const end = scenarioEnd(scenario).getTime();
  return scenario.tables.reduce((sum, t) => {
    const until = t.incident?.kind === 'table_dropped' ? t.incident.start.getTime() : end;
    return sum + Math.max(0, until - scenario.evaluationStart.getTime()) / DAY_MS;
  }, 0);
}
