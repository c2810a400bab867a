// The escalation policy's first half, inside the incident batch's transaction: the first time an
// incident would notify, a matching runbook is queued to recover it, and — for severities in
// `runbooks.recover_first` — PagerDuty is held back while a run for it is under way. The run's
// end (src/incidents/recovery-outcome.ts) decides whether anyone is paged after all.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import type { MatchSubject } from '../runbooks/match-runbooks.ts';
import { startRun } from '../runbooks/start-run.ts';
import type { IncidentRow } from '../store/incident-records.ts';
import { countRunsForIncident, selectActiveRunOnAsset } from '../store/runbook-runs.ts';
import type { Finding } from '../types.ts';

export interface RecoveryPolicy {
  /** The runbook that recovers this incident, if any. */
  runbookFor(subject: MatchSubject): LoadedRunbook | undefined;
}

export interface RecoveryDecision {
  holdPage: boolean;
  started?: { runbook: string; run: string };
  /** The runbook is already recovering this asset for another incident: no second run. */
  alreadyRunning?: { runbook: string; run: string; incident: string | null };
}

export async function decideRecovery(client: pg.ClientBase, config: Config, policy: RecoveryPolicy, incident: IncidentRow, finding: Finding, now: Date): Promise<RecoveryDecision> {
  const recoverFirst = config.runbooks.recover_first.includes(incident.severity);
  const runs = await countRunsForIncident(client, incident.id);
  if (runs.active > 0) return { holdPage: recoverFirst };
  // One recovery per incident: once a run has ended, what it left is the page's business.
  if (runs.total > 0) return { holdPage: false };
  const runbook = policy.runbookFor({ finding, incident: { id: incident.id, severity: incident.severity, status: incident.status, owner: incident.owner } });
  if (runbook === undefined) return { holdPage: false };
  // Two checks failing on one table (its size and its distribution) must not start two rollbacks
  // of it: the second incident is told about the run under way and pages as it would without one.
  const running = await selectActiveRunOnAsset(client, runbook.definition.name, finding.asset);
  if (running !== undefined) return { holdPage: false, alreadyRunning: { runbook: runbook.definition.name, run: running.id, incident: running.incident_id } };
  const deadline = Math.min(now.getTime() + runbook.definition.timeout, new Date(incident.opened_at).getTime() + config.runbooks.deadline);
  const run = await startRun(client, runbook, { asset: finding.asset, finding, incidentId: incident.id, startedBy: `incident #${incident.id}`, now, deadlineAt: new Date(deadline) });
  return { holdPage: recoverFirst, started: { runbook: runbook.definition.name, run: run.id } };
}
