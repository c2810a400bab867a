// The runbook_runs and runbook_step_attempts tables. Every write a daemon makes for a run it is
// executing is fenced by its lease (`lease_owner = $owner`): a daemon that stalled past its
// lease and lost the run to another cannot write over what the new owner does.

import type pg from 'pg';
import type { Finding } from '../types.ts';

type Queryable = pg.ClientBase | pg.Pool;

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'escalated' | 'cancelled';
export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

export interface RunRow {
  id: string;
  runbook: string;
  runbook_file: string;
  runbook_source: string;
  runbook_digest: string;
  asset: string;
  incident_id: string | null;
  finding: Record<string, unknown> | null;
  params: Record<string, unknown>;
  started_by: string;
  status: RunStatus;
  outcome: string | null;
  deadline_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  current_step: string | null;
  progress: Record<string, unknown> | null;
}

export interface AttemptRow {
  id: string;
  run_id: string;
  step_index: number;
  step: string;
  partition: string;
  attempt: number;
  action: string;
  status: AttemptStatus;
  inputs: unknown;
  outputs: Record<string, unknown> | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface NewRun {
  runbook: string;
  file: string;
  source: string;
  digest: string;
  asset: string;
  incidentId?: string | undefined;
  finding?: unknown;
  params: Record<string, unknown>;
  startedBy: string;
  deadlineAt: Date;
  now: Date;
}

function runFromRow(row: RunRow): RunRow {
  return { ...row, id: String(row.id), incident_id: row.incident_id === null ? null : String(row.incident_id) };
}

export async function insertRun(client: Queryable, run: NewRun): Promise<RunRow> {
  const result = await client.query<RunRow>(
    `INSERT INTO runbook_runs (runbook, runbook_file, runbook_source, runbook_digest, asset, incident_id, finding, params, started_by, status, deadline_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11) RETURNING *`,
    [run.runbook, run.file, run.source, run.digest, run.asset, run.incidentId ?? null, run.finding === undefined ? null : JSON.stringify(run.finding), JSON.stringify(run.params), run.startedBy, run.deadlineAt, run.now],
  );
  return runFromRow(result.rows[0] as RunRow);
}

// Queued runs, and running ones whose daemon stopped renewing its lease. SKIP LOCKED: two
// daemons claiming at once get different runs.
const CLAIM_RUNS = `
UPDATE runbook_runs SET status = 'running', lease_owner = $1, lease_expires_at = $3, started_at = coalesce(started_at, $2)
WHERE id IN (
  SELECT id FROM runbook_runs
  WHERE (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= $2)))
    AND NOT (id = ANY($5::bigint[]))
  ORDER BY id
  LIMIT $4
  FOR UPDATE SKIP LOCKED
)
RETURNING *`;

/**
 * Claims up to `limit` runs for `owner`. `executing`: runs this owner is executing already; their
 * leases may have lapsed (heartbeats failing while the state DB is away) but claiming one again
 * would start a second execution of it beside the first.
 */
export async function claimRuns(client: Queryable, owner: string, now: Date, leaseMs: number, limit: number, executing: readonly string[] = []): Promise<RunRow[]> {
  if (limit <= 0) return [];
  const result = await client.query<RunRow>(CLAIM_RUNS, [owner, now, new Date(now.getTime() + leaseMs), limit, executing]);
  return result.rows.map(runFromRow).sort((a, b) => Number(a.id) - Number(b.id));
}

/** Extends the leases this owner still holds; returns the ids it still holds. */
export async function renewLeases(client: Queryable, ids: readonly string[], owner: string, until: Date): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await client.query<{ id: string }>(
    "UPDATE runbook_runs SET lease_expires_at = $3 WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'running' RETURNING id",
    [ids, owner, until],
  );
  return new Set(result.rows.map((row) => String(row.id)));
}

/** Lets another daemon resume the run at once (a graceful stop with the run unfinished). */
export async function releaseRun(client: Queryable, id: string, owner: string, now: Date): Promise<void> {
  await client.query("UPDATE runbook_runs SET lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'", [id, owner, now]);
}

export async function finishRun(client: Queryable, id: string, owner: string, status: RunStatus, outcome: string, now: Date): Promise<boolean> {
  const result = await client.query(
    "UPDATE runbook_runs SET status = $3, outcome = $4, finished_at = $5, lease_owner = NULL, lease_expires_at = NULL, current_step = NULL WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    [id, owner, status, outcome, now],
  );
  return result.rowCount === 1;
}

export async function setRunProgress(client: Queryable, id: string, owner: string, step: string, progress: unknown): Promise<void> {
  await client.query('UPDATE runbook_runs SET current_step = $3, progress = $4 WHERE id = $1 AND lease_owner = $2', [id, owner, step, progress === null ? null : JSON.stringify(progress)]);
}

export async function selectAttempts(client: Queryable, runId: string): Promise<AttemptRow[]> {
  const result = await client.query<AttemptRow>('SELECT * FROM runbook_step_attempts WHERE run_id = $1 ORDER BY id', [runId]);
  return result.rows.map((row) => ({ ...row, id: String(row.id), run_id: String(row.run_id) }));
}

export interface NewAttempt {
  runId: string;
  stepIndex: number;
  step: string;
  partition?: string;
  attempt: number;
  action: string;
  status: AttemptStatus;
  inputs: unknown;
  outputs?: Record<string, unknown> | undefined;
  error?: string | undefined;
  startedAt: Date;
  finishedAt?: Date | undefined;
}

/** Records an attempt if this owner still holds the run; undefined when it lost it. */
export async function insertAttempt(client: Queryable, owner: string, attempt: NewAttempt): Promise<string | undefined> {
  const result = await client.query<{ id: string }>(
    `INSERT INTO runbook_step_attempts (run_id, step_index, step, partition, attempt, action, status, inputs, outputs, error, started_at, finished_at)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
     WHERE EXISTS (SELECT 1 FROM runbook_runs WHERE id = $1 AND lease_owner = $13 AND status = 'running')
     RETURNING id`,
    [
      attempt.runId,
      attempt.stepIndex,
      attempt.step,
      attempt.partition ?? '',
      attempt.attempt,
      attempt.action,
      attempt.status,
      JSON.stringify(attempt.inputs ?? null),
      attempt.outputs === undefined ? null : JSON.stringify(attempt.outputs),
      attempt.error ?? null,
      attempt.startedAt,
      attempt.finishedAt ?? null,
      owner,
    ],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : String(row.id);
}

export async function finishAttempt(
  client: Queryable,
  id: string,
  status: AttemptStatus,
  result: { outputs?: Record<string, unknown> | undefined; error?: string | undefined },
  now: Date,
): Promise<void> {
  await client.query('UPDATE runbook_step_attempts SET status = $2, outputs = $3, error = $4, finished_at = $5 WHERE id = $1', [
    id,
    status,
    result.outputs === undefined ? null : JSON.stringify(result.outputs),
    result.error ?? null,
    now,
  ]);
}

export async function selectRun(client: Queryable, id: string): Promise<RunRow | undefined> {
  const result = await client.query<RunRow>('SELECT * FROM runbook_runs WHERE id = $1', [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : runFromRow(row);
}

export async function selectRecentRuns(client: Queryable, limit: number): Promise<RunRow[]> {
  const result = await client.query<RunRow>('SELECT * FROM runbook_runs ORDER BY id DESC LIMIT $1', [limit]);
  return result.rows.map(runFromRow);
}

export async function selectActiveRunsForIncident(client: Queryable, incidentId: string): Promise<RunRow[]> {
  const result = await client.query<RunRow>("SELECT * FROM runbook_runs WHERE incident_id = $1 AND status IN ('queued', 'running') ORDER BY id", [incidentId]);
  return result.rows.map(runFromRow);
}

export async function countRunsForIncident(client: Queryable, incidentId: string): Promise<{ active: number; total: number }> {
  const result = await client.query<{ active: number; total: number }>(
    "SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS active, count(*)::int AS total FROM runbook_runs WHERE incident_id = $1",
    [incidentId],
  );
  return result.rows[0] ?? { active: 0, total: 0 };
}

/** A queued or running run of `runbook` on `asset`, whichever incident it serves. */
export async function selectActiveRunOnAsset(client: Queryable, runbook: string, asset: string): Promise<{ id: string; incident_id: string | null } | undefined> {
  const result = await client.query<{ id: string; incident_id: string | null }>(
    "SELECT id::text, incident_id::text FROM runbook_runs WHERE runbook = $1 AND asset = $2 AND status IN ('queued', 'running') ORDER BY id LIMIT 1",
    [runbook, asset],
  );
  return result.rows[0];
}

/**
 * Claims one run by id, for `pipewarden runbook run` executing the run it just queued; undefined
 * when a daemon got to it first (it is then running there).
 */
export async function claimRun(client: Queryable, id: string, owner: string, now: Date, leaseMs: number): Promise<RunRow | undefined> {
  const result = await client.query<RunRow>(
    "UPDATE runbook_runs SET status = 'running', lease_owner = $2, lease_expires_at = $4, started_at = coalesce(started_at, $3) WHERE id = $1 AND status = 'queued' RETURNING *",
    [id, owner, now, new Date(now.getTime() + leaseMs)],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : runFromRow(row);
}

/**
 * Ends a queued or running run as cancelled and drops its lease: every later write of the daemon
 * executing it is fenced on its lease, so that daemon loses the run at its next heartbeat or
 * write and stops. Undefined when the run had already ended (or does not exist).
 */
export async function cancelRun(client: Queryable, id: string, outcome: string, now: Date): Promise<RunRow | undefined> {
  const result = await client.query<RunRow>(
    `UPDATE runbook_runs SET status = 'cancelled', outcome = $2, finished_at = $3, lease_owner = NULL, lease_expires_at = NULL, current_step = NULL
     WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
    [id, outcome, now],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : runFromRow(row);
}

/** The newest unresolved incident on an asset: a run started by hand for that asset belongs to it. */
/** The asset's newest unresolved incident and the finding it holds, for a run started by hand. */
export async function selectActiveIncidentForAsset(client: Queryable, asset: string): Promise<{ id: string; finding: Finding } | undefined> {
  const result = await client.query<{ id: string; last_finding: Finding }>(
    "SELECT id, last_finding FROM incidents WHERE asset = $1 AND status <> 'resolved' ORDER BY id DESC LIMIT 1",
    [asset],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { id: String(row.id), finding: row.last_finding };
}

/** Every run an incident had, oldest first, with its attempts: what runbooks tried. */
export async function selectRunsForIncident(client: Queryable, incidentId: string): Promise<Array<{ run: RunRow; attempts: AttemptRow[] }>> {
  const runs = await client.query<RunRow>('SELECT * FROM runbook_runs WHERE incident_id = $1 ORDER BY id', [incidentId]);
  const result: Array<{ run: RunRow; attempts: AttemptRow[] }> = [];
  for (const row of runs.rows) {
    const run = runFromRow(row);
    result.push({ run, attempts: await selectAttempts(client, run.id) });
  }
  return result;
}
