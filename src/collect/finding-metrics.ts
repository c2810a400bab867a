// pipewarden_findings is written by two jobs: the sweep (freshness, schema) and the profile job
// (volume, distribution). Each replaces only the kinds it evaluates, so neither wipes the other's.

import type { Metrics } from '../telemetry/metrics.ts';
import type { CheckKind, Finding, FindingStatus } from '../types.ts';

/** The kinds the profile job evaluates; the sweep owns every other kind. */
export const PROFILE_KINDS: readonly CheckKind[] = ['volume', 'distribution'];
export const SWEEP_KINDS: readonly CheckKind[] = ['freshness', 'schema', 'run'];

const STATUSES: readonly FindingStatus[] = ['ok', 'warn', 'fail', 'error'];

export function recordFindingMetrics(metrics: Metrics, findings: readonly Finding[], kinds: readonly CheckKind[]): void {
  for (const kind of kinds) for (const status of STATUSES) metrics.findings.remove({ kind, status });
  for (const finding of findings) {
    if (kinds.includes(finding.kind)) metrics.findings.inc({ kind: finding.kind, status: finding.status });
  }
}
