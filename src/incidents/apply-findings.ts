// Findings → incidents. After a judging job stores its findings, each check's evaluation goes
// through the lifecycle (src/incidents/lifecycle.ts) in ONE transaction per batch: the checks'
// tracking rows are locked, incidents opened or changed, their timelines written and the
// notifications they cause queued in the outbox. A crash anywhere leaves all or none of it.

import { isDeepStrictEqual } from 'node:util';
import type { Span } from '@opentelemetry/api';
import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { ownerForAsset, pagedSeveritiesFor, routeForIncident } from '../notify/routing.ts';
import {
  clearIncidentRelease,
  insertIncident,
  insertIncidentEvents,
  insertOutboxItems,
  lockTracking,
  saveTracking,
  updateIncident,
  type IncidentEventRecord,
  type IncidentRow,
  type OutboxItem,
  type StoredTracking,
  type TrackingRow,
} from '../store/incident-records.ts';
import { selectActiveSilences } from '../store/silences.ts';
import { withTransaction } from '../store/transaction.ts';
import { withSpan } from '../telemetry/tracing.ts';
import type { CheckKind, Finding } from '../types.ts';
import { advanceIncident, NEW_TRACKING, type CheckTracking, type LifecycleEvent, type LifecycleSettings } from './lifecycle.ts';
import { activeMaintenanceWindows } from './maintenance.ts';
import { planNotifications, type IncidentChange, type NotificationPlan } from './plan-notifications.ts';
import { decideRecovery, type RecoveryDecision, type RecoveryPolicy } from './recovery.ts';
import { groupNewIncident, releaseSymptoms, tellGrouping, type NotificationSink } from './root-cause.ts';
import { notificationChannels } from '../notify/channels.ts';
import { silenceFor, type Silence } from './silences.ts';

export interface IncidentOutcome {
  opened: number;
  openedBySeverity: Partial<Record<IncidentRow['severity'], number>>;
  resolved: number;
  /** Incidents resolved in this batch, with how long each was open (for the MTTR histogram). */
  resolvedAfter: Array<{ severity: IncidentRow['severity']; seconds: number }>;
  queued: number;
  /** Runbook runs queued to recover incidents (the runbook executor should look now). */
  runsStarted: number;
}

export function lifecycleSettings(config: Config, kind: CheckKind): LifecycleSettings {
  const { incidents } = config;
  return {
    pendingEvaluations: { ...incidents.pending, ...withoutUndefined(incidents.pending_by_kind[kind] ?? {}) },
    resolveAfter: incidents.resolve_after,
    flapWindowMs: incidents.flapping.window,
    flapMaxChanges: incidents.flapping.max_changes,
    renotifyIntervalMs: incidents.renotify,
  };
}


/** Applies one job's findings (at most one per check) to their incidents. */
export async function applyFindings(pool: pg.Pool, config: Config, evaluated: readonly Finding[], now: Date, recovery?: RecoveryPolicy): Promise<IncidentOutcome> {
  const outcome: IncidentOutcome = { opened: 0, openedBySeverity: {}, resolved: 0, resolvedAfter: [], queued: 0, runsStarted: 0 };
  const findings = firstPerCheck(evaluated);
  if (findings.length === 0) return outcome;
  return withSpan('apply findings', { 'pipewarden.findings': findings.length }, (span) => withTransaction(pool, async (client) => {
    const silences = [...(await selectActiveSilences(client, now)), ...activeMaintenanceWindows(config.incidents.maintenance, now, config.schedule.timezone)];
    const work = new Batch(client, config, now, silences, recovery);
    const locked = await lockTracking(client, findings.map((finding) => finding.check), storedPart(NEW_TRACKING), now);
    for (const finding of findings) await work.apply(finding, locked.get(finding.check));
    await work.flush(outcome);
    work.traceEvents(span, outcome);
    return outcome;
  }));
}

class Batch {
  private readonly settings = new Map<CheckKind, LifecycleSettings>();
  private readonly trackings: Array<{ checkId: string; tracking: StoredTracking; incidentId: string | null }> = [];
  private readonly events: IncidentEventRecord[] = [];
  private readonly items: OutboxItem[] = [];
  private readonly opened: IncidentRow['severity'][] = [];
  private resolved = 0;
  private readonly resolvedAfter: IncidentOutcome['resolvedAfter'] = [];
  private readonly client: pg.ClientBase;
  private readonly config: Config;
  private readonly now: Date;
  private readonly silences: readonly Silence[];
  private readonly recovery: RecoveryPolicy | undefined;
  private startedRuns = 0;

  constructor(client: pg.ClientBase, config: Config, now: Date, silences: readonly Silence[], recovery: RecoveryPolicy | undefined) {
    this.client = client;
    this.config = config;
    this.now = now;
    this.silences = silences;
    this.recovery = recovery;
  }

  private settingsFor(kind: CheckKind): LifecycleSettings {
    let settings = this.settings.get(kind);
    if (settings === undefined) this.settings.set(kind, (settings = lifecycleSettings(this.config, kind)));
    return settings;
  }

  async apply(finding: Finding, row: TrackingRow | undefined): Promise<void> {
    const before: CheckTracking = { ...(row?.tracking ?? storedPart(NEW_TRACKING)), incident: activeIncident(row?.incident ?? null) };
    const step = advanceIncident(before, finding.status, this.settingsFor(finding.kind), this.now.getTime());
    let incident = row?.incident ?? null;
    for (const event of step.events) incident = await this.record(event, finding, incident);
    if (incident !== null && incident.released_at !== null && incident.status !== 'resolved') incident = await this.judgeReleased(incident, finding);
    if (incident !== null && step.events.length === 0 && incident.status !== 'resolved') {
      // Keep the evidence current even when nothing worth a message happened.
      if (finding.status !== 'ok') incident = await updateIncident(this.client, incident.id, { lastFinding: finding });
    }
    const incidentId = step.tracking.incident === undefined ? null : (incident?.id ?? null);
    const stored = storedPart(step.tracking);
    // jsonb reorders keys, hence a deep comparison rather than comparing JSON text.
    if (row === undefined || !isDeepStrictEqual(stored, row.tracking) || incidentId !== (row.incident?.id ?? null)) {
      this.trackings.push({ checkId: finding.check, tracking: stored, incidentId });
    }
  }

  async flush(outcome: IncidentOutcome): Promise<void> {
    await saveTracking(this.client, this.trackings, this.now);
    await insertIncidentEvents(this.client, this.events, this.now);
    await insertOutboxItems(this.client, this.items, this.now);
    outcome.opened += this.opened.length;
    for (const severity of this.opened) outcome.openedBySeverity[severity] = (outcome.openedBySeverity[severity] ?? 0) + 1;
    outcome.resolved += this.resolved;
    outcome.resolvedAfter.push(...this.resolvedAfter);
    outcome.queued += this.items.length;
    outcome.runsStarted += this.startedRuns;
  }

  /** Each incident transition as a span event: its type and incident id only, never messages or evidence. */
  traceEvents(span: Span, outcome: IncidentOutcome): void {
    for (const event of this.events) span.addEvent(event.type, { 'pipewarden.incident.id': event.incidentId });
    span.setAttributes({ 'pipewarden.incidents.opened': outcome.opened, 'pipewarden.incidents.resolved': outcome.resolved, 'pipewarden.notifications.queued': outcome.queued, 'pipewarden.runbook_runs.started': outcome.runsStarted });
  }

  private async record(event: LifecycleEvent, finding: Finding, current: IncidentRow | null): Promise<IncidentRow | null> {
    const changed = await this.change(event, finding, current);
    if (changed === null) return null;
    this.events.push({ incidentId: changed.id, type: event.type, source: 'pipewarden', detail: { ...event, status: finding.status, message: finding.message } });
    if (event.type === 'status_changed') return changed;
    // A new incident first finds its cause upstream (then it does not page) or its symptoms downstream.
    const grouping = changed.id !== current?.id ? await groupNewIncident(this.client, changed, this.now) : undefined;
    const incident = grouping?.incident ?? changed;
    const silence = silenceFor(this.silences, finding);
    const recovery = await this.decideRecovery(event, incident, finding);
    const plan = this.plan(event, incident, silence, recovery.holdPage);
    if (silence !== undefined) this.events.push({ incidentId: incident.id, type: 'notification_suppressed', source: 'pipewarden', detail: { silence: silence.id, reason: silence.reason } });
    this.items.push(...plan.items);
    if (recovery.alreadyRunning !== undefined) {
      const { runbook, run, incident: other } = recovery.alreadyRunning;
      const message = `runbook ${runbook} is already recovering ${incident.asset} (run #${run}${other === null ? '' : ` for incident #${other}`}); no second run is started`;
      this.events.push({ incidentId: incident.id, type: 'runbook_already_running', source: 'pipewarden', detail: { runbook, run, incident: other, message } });
    }
    if (recovery.started !== undefined) {
      const started = { type: 'recovery_started' as const, ...recovery.started, pageHeld: recovery.holdPage };
      this.events.push({ incidentId: incident.id, type: 'runbook_started', source: 'pipewarden', detail: started });
      this.items.push(...this.plan(started, incident, silence, recovery.holdPage).items);
    }
    if (grouping !== undefined) {
      this.takeBackPages(grouping.unpaged);
      tellGrouping(this.config, grouping.notes, this.sink());
    }
    if (event.type === 'resolved') tellGrouping(this.config, await releaseSymptoms(this.client, incident, this.now), this.sink());
    return plan.pages ? await updateIncident(this.client, incident.id, { pagedAt: this.now }) : incident;
  }

  private sink(): NotificationSink {
    return { events: this.events, items: this.items };
  }

  /** PagerDuty items planned earlier in this batch for incidents that turned out to be symptoms. */
  private takeBackPages(incidentIds: readonly string[]): void {
    if (incidentIds.length === 0) return;
    const kept = this.items.filter((item) => !(item.channel === 'pagerduty' && incidentIds.includes(item.incidentId)));
    this.items.splice(0, this.items.length, ...kept);
  }

  /**
   * An incident its cause released is judged on its own at its next evaluation: still failing, it
   * pages now (it never did while grouped); passing, the lifecycle resolves it as usual.
   */
  private async judgeReleased(incident: IncidentRow, finding: Finding): Promise<IncidentRow> {
    const cleared = await clearIncidentRelease(this.client, incident.id);
    if (finding.status !== 'fail' && finding.status !== 'warn') return cleared;
    const change = { type: 'still_failing' as const };
    this.events.push({ incidentId: cleared.id, type: change.type, source: 'pipewarden', detail: { status: finding.status, message: finding.message } });
    const plan = this.plan(change, cleared, silenceFor(this.silences, finding), false);
    this.items.push(...plan.items);
    return plan.pages ? await updateIncident(this.client, cleared.id, { pagedAt: this.now }) : cleared;
  }

  private plan(change: IncidentChange, incident: IncidentRow, silence: Silence | undefined, holdPage: boolean): NotificationPlan {
    return planNotifications({
      change,
      incident,
      route: routeForIncident(this.config, incident),
      channels: notificationChannels(this.config),
      pageOn: pagedSeveritiesFor(this.config, incident.asset),
      silencedBy: silence,
      holdPage,
    });
  }

  /** Only changes that would page can start a recovery or be held back for one. */
  private async decideRecovery(event: LifecycleEvent, incident: IncidentRow, finding: Finding): Promise<RecoveryDecision> {
    if (this.recovery === undefined || !['opened', 'severity_raised', 'flapping'].includes(event.type)) return { holdPage: false };
    const decision = await decideRecovery(this.client, this.config, this.recovery, incident, finding, this.now);
    if (decision.started !== undefined) this.startedRuns += 1;
    return decision;
  }

  private async change(event: LifecycleEvent, finding: Finding, current: IncidentRow | null): Promise<IncidentRow | null> {
    const at = this.now;
    if (current === null || current.status === 'resolved') {
      if (event.type !== 'opened' && event.type !== 'flapping') return null;
      this.opened.push(event.severity);
      const owner = ownerForAsset(this.config, finding.asset, finding.owner);
      return insertIncident(this.client, { finding, severity: event.severity, flapping: event.type === 'flapping', owner, openedAt: at });
    }
    switch (event.type) {
      case 'severity_raised':
        return updateIncident(this.client, current.id, { severity: event.to, lastNotifiedAt: at, lastFinding: finding });
      case 'flapping':
        return updateIncident(this.client, current.id, { flapping: true, lastNotifiedAt: at, lastFinding: finding });
      case 'reminded':
        return updateIncident(this.client, current.id, { lastNotifiedAt: at, lastFinding: finding });
      case 'resolved':
        this.resolved += 1;
        this.resolvedAfter.push({ severity: current.severity, seconds: Math.max(0, at.getTime() - current.opened_at.getTime()) / 1000 });
        return updateIncident(this.client, current.id, { status: 'resolved', resolved: { at, by: 'pipewarden' }, lastFinding: finding });
      case 'status_changed':
        return updateIncident(this.client, current.id, { lastFinding: finding });
      default:
        return current;
    }
  }
}

export function activeIncident(row: IncidentRow | null): CheckTracking['incident'] {
  if (row === null || row.status === 'resolved') return undefined;
  return { severity: row.severity, status: row.status, openedAt: row.opened_at.getTime(), lastNotifiedAt: row.last_notified_at.getTime(), flapping: row.flapping };
}

export function storedPart(tracking: CheckTracking): StoredTracking {
  const { incident: _incident, ...stored } = tracking;
  // JSON has no undefined: drop it so stored and re-read trackings compare equal.
  return JSON.parse(JSON.stringify(stored)) as StoredTracking;
}

/** A check evaluated twice in one job (two monitors) counts once: the first monitor wins. */
function firstPerCheck(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const finding of findings) if (!seen.has(finding.check)) seen.set(finding.check, finding);
  return [...seen.values()];
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
