// The pure half of the Airflow check: rows + settings + now → findings. No I/O and no clock, so
// every rule is tested on plain rows. Paused DAGs and DAGs whose file is gone are not judged:
// nobody expects them to run, and their last failure is old news.

import type { Finding } from '../../types.ts';
import type { AirflowEvaluationSettings } from './airflow-findings-common.ts';
import { evaluateLongRun } from './airflow-long-run.ts';
import type { AirflowRunDurationRow, AirflowSnapshot, AirflowTaskInstanceRow } from './airflow-rows.ts';
import { evaluateRunStatus } from './airflow-run-status.ts';
import { evaluateSchedule } from './airflow-schedule.ts';

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

export function evaluateAirflow(snapshot: AirflowSnapshot, settings: AirflowEvaluationSettings, now: Date): Finding[] {
  const runs = new Map(snapshot.newestRuns.map((run) => [run.dag_id, run]));
  const queued = new Map(snapshot.queuedRuns.map((run) => [run.dag_id, run]));
  const instances = groupBy<AirflowTaskInstanceRow>(snapshot.taskInstances, (ti) => `${ti.dag_id}\u0000${ti.run_id}`);
  const durations = groupBy<AirflowRunDurationRow>(snapshot.durations, (row) => row.dag_id);
  const findings: Finding[] = [];
  for (const dag of snapshot.dags) {
    if (dag.is_paused || !dag.is_active) continue;
    const run = runs.get(dag.dag_id);
    if (run) {
      findings.push(...evaluateRunStatus(run, instances.get(`${run.dag_id}\u0000${run.run_id}`) ?? []));
      const long = evaluateLongRun(run, durations.get(dag.dag_id) ?? [], settings.longRun, now);
      if (long) findings.push(long);
    }
    findings.push(evaluateSchedule(dag, queued.get(dag.dag_id), settings.notStartedAfterMs, now));
  }
  return findings;
}
