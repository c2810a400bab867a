// pipewarden_findings is written by three jobs, the sweep, the profile job and the pipelines job,
// each judging its own checks (both judge volume: the sweep a rebuilt table's size, the profile job rows per bucket).
// Each job's latest counts are kept apart and the gauge shows their sum, so neither job's run
// wipes or doubles the other's.

import type { Metrics } from '../telemetry/metrics.ts';
import type { CheckKind, Finding, FindingStatus } from '../types.ts';

export type JudgingJob = 'sweep' | 'profile' | 'pipelines';

/** The kinds whose `error` findings each job reports when its warehouse cannot be read. */
export const PROFILE_KINDS: readonly CheckKind[] = ['volume', 'distribution'];
export const SWEEP_KINDS: readonly CheckKind[] = ['freshness', 'schema', 'run'];

type Counts = Map<string, { kind: CheckKind; status: FindingStatus; count: number }>;

const latestCounts = new WeakMap<Metrics, Map<JudgingJob, Counts>>();

export function recordFindingMetrics(metrics: Metrics, job: JudgingJob, findings: readonly Finding[]): void {
  let jobs = latestCounts.get(metrics);
  if (jobs === undefined) latestCounts.set(metrics, (jobs = new Map()));
  jobs.set(job, countByKindAndStatus(findings));
  // Synchronous from reset to the last set: a scrape never sees the gauge half rebuilt.
  metrics.findings.reset();
  for (const counts of jobs.values()) {
    for (const { kind, status, count } of counts.values()) metrics.findings.inc({ kind, status }, count);
  }
}

function countByKindAndStatus(findings: readonly Finding[]): Counts {
  const counts: Counts = new Map();
  for (const { kind, status } of findings) {
    const key = `${kind}\u0000${status}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { kind, status, count: 1 });
    else entry.count += 1;
  }
  return counts;
}
