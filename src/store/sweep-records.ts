// What a sweep leaves in the state DB besides table_state: the metadata observations (one point
// per table × metric at the sweep's time) and the findings it evaluated. Each is one statement,
// whatever the number of tables.

import type pg from 'pg';
import type { Finding, FindingStatus, Observation } from '../types.ts';

const UPSERT_OBSERVATIONS = `
INSERT INTO observations (asset, metric, column_name, bucket, value, measured_at)
SELECT o.asset, o.metric, o.column_name, o.bucket, o.value, $2
FROM jsonb_to_recordset($1::jsonb) AS o(asset text, metric text, column_name text, bucket timestamptz, value float8)
ON CONFLICT (asset, metric, column_name, bucket)
DO UPDATE SET value = excluded.value, measured_at = excluded.measured_at`;

/** Re-measuring a bucket overwrites it (late data), hence the upsert. */
export async function upsertObservations(
  client: pg.ClientBase | pg.Pool,
  observations: readonly Observation[],
  measuredAt: Date,
): Promise<void> {
  if (observations.length === 0) return;
  const records = observations.map((observation) => ({
    asset: observation.asset,
    metric: observation.metric,
    column_name: observation.column,
    bucket: observation.bucket.toISOString(),
    value: observation.value,
  }));
  await client.query(UPSERT_OBSERVATIONS, [JSON.stringify(records), measuredAt]);
}

const INSERT_FINDINGS = `
INSERT INTO findings (check_id, kind, asset, column_name, status, observed, expected_low,
  expected_high, score, bucket, message, evaluated_at)
SELECT f.check_id, f.kind, f.asset, f.column_name, f.status, f.observed, f.expected_low,
  f.expected_high, f.score, f.bucket, f.message, $2
FROM jsonb_to_recordset($1::jsonb) AS f(check_id text, kind text, asset text, column_name text,
  status text, observed float8, expected_low float8, expected_high float8, score float8,
  bucket timestamptz, message text)`;

export async function insertFindings(
  client: pg.ClientBase | pg.Pool,
  findings: readonly Finding[],
  evaluatedAt: Date,
): Promise<void> {
  if (findings.length === 0) return;
  const records = findings.map((finding) => ({
    check_id: finding.check,
    kind: finding.kind,
    asset: finding.asset,
    column_name: finding.column ?? null,
    status: finding.status,
    observed: finding.observed,
    expected_low: finding.expected?.low ?? null,
    expected_high: finding.expected?.high ?? null,
    score: finding.score ?? null,
    bucket: finding.bucket ?? null,
    message: finding.message,
  }));
  await client.query(INSERT_FINDINGS, [JSON.stringify(records), evaluatedAt]);
}

const SELECT_LATEST_STATUSES = `
SELECT DISTINCT ON (check_id) check_id, status
FROM findings
WHERE check_id = ANY($1::text[])
ORDER BY check_id, evaluated_at DESC, id DESC`;

/** The status each check had at its latest evaluation; checks never evaluated are absent. */
export async function selectLatestStatuses(client: pg.ClientBase | pg.Pool, checkIds: readonly string[]): Promise<Map<string, FindingStatus>> {
  if (checkIds.length === 0) return new Map();
  const result = await client.query<{ check_id: string; status: FindingStatus }>(SELECT_LATEST_STATUSES, [checkIds]);
  return new Map(result.rows.map((row) => [row.check_id, row.status]));
}
