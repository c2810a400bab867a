// Glossary (the words used in code, UI and docs):
// - asset: a thing that can break, named by a stable key. Tables are `warehouse.schema.table`
//   (e.g. `analytics.public.orders`); later, dbt nodes and pipelines get keys of their own.
// - observation: one measured value: asset × metric (× column) × time bucket → number.
//   Re-measuring a bucket (late data) overwrites it.
// - check: a configured detector on an asset (`freshness`, `volume`, `distribution`, `schema`,
//   `run`), with a stable id `kind:asset[:column]`.
// - finding: the result of evaluating one check at one moment: ok | warn | fail | error
//   (error = could not measure), with observed value, expected range and a human message.
// - incident: the durable record of a failing check (open → acknowledged → resolved).
// - runbook: a declarative recovery procedure; a run is one execution of it, made of steps.
// - owner: who answers for an asset; owners map to Slack channels and PagerDuty routing keys.
// - blast radius: the downstream assets and exposures that read a failing asset.

export type CheckKind = 'freshness' | 'volume' | 'distribution' | 'schema' | 'run';

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'error';

export interface ExpectedRange {
  low: number | null;
  high: number | null;
}

export interface Finding {
  /** Stable check id: `kind:asset[:column]`. */
  check: string;
  kind: CheckKind;
  asset: string;
  column?: string;
  status: FindingStatus;
  observed: number | null;
  expected?: ExpectedRange;
  score?: number;
  /** ISO timestamp of the bucket the finding is about, when it is about one. */
  bucket?: string;
  message: string;
  /**
   * Who answers for the asset when its source says (dbt `meta.owner`, an Airflow or SQLMesh
   * source's `owner`); a monitor's `owner` in the config still comes first.
   */
  owner?: string;
}

export interface FindingSummary {
  ok: number;
  warn: number;
  fail: number;
  error: number;
}

export interface Observation {
  asset: string;
  metric: string;
  /** Empty string when the metric is about the whole asset, not one column. */
  column: string;
  bucket: Date;
  value: number;
}

export function checkId(kind: CheckKind, asset: string, column?: string): string {
  return column ? `${kind}:${asset}:${column}` : `${kind}:${asset}`;
}

export function summarizeFindings(findings: readonly Finding[]): FindingSummary {
  const summary: FindingSummary = { ok: 0, warn: 0, fail: 0, error: 0 };
  for (const finding of findings) summary[finding.status] += 1;
  return summary;
}
