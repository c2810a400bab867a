// Status findings of a DAG's newest started run: the run itself and each of its tasks. A task
// that failed and later succeeded (cleared and rerun, or the next run) reports ok, so its incident
// can resolve. Tasks still under way, and states Airflow may add later, are not judged.

import type { Finding, FindingStatus } from '../../types.ts';
import { airflowAsset, airflowCheck } from './airflow-findings-common.ts';
import type { AirflowRunRow, AirflowTaskInstanceRow } from './airflow-rows.ts';

const TASK_STATUS: Readonly<Record<string, FindingStatus>> = {
  failed: 'fail',
  upstream_failed: 'fail',
  up_for_retry: 'warn',
  success: 'ok',
  skipped: 'ok',
  removed: 'ok',
};

const STATUS_RANK: Readonly<Record<FindingStatus, number>> = { ok: 0, warn: 1, fail: 2, error: 3 };

// Among a mapped task's instances, the one that says most: failed before upstream_failed before
// up_for_retry, and among equals the highest try.
const STATE_RANK: Readonly<Record<string, number>> = { failed: 3, upstream_failed: 2, up_for_retry: 1 };

function describeTask(instance: AirflowTaskInstanceRow, runId: string): string {
  const task = `task ${instance.task_id}`;
  switch (instance.state) {
    case 'failed':
      return `${task} failed on try ${instance.try_number} in run ${runId}`;
    case 'upstream_failed':
      return `${task} did not run because an upstream task failed (upstream_failed) in run ${runId}`;
    case 'up_for_retry':
      return `${task} failed on try ${instance.try_number} and waits for a retry in run ${runId}`;
    case 'skipped':
      return `${task} was skipped in run ${runId}`;
    case 'removed':
      return `${task} was removed from the DAG in run ${runId}`;
    default:
      return `${task} succeeded on try ${instance.try_number} in run ${runId}`;
  }
}

function taskFinding(run: AirflowRunRow, instances: readonly AirflowTaskInstanceRow[]): Finding | undefined {
  const statuses = instances.map((instance) => (instance.state === null ? undefined : TASK_STATUS[instance.state]));
  // A mapped task with an instance still under way is judged only once something failed.
  const judged = statuses.filter((status): status is FindingStatus => status !== undefined);
  const worst = judged.reduce<FindingStatus>((a, b) => (STATUS_RANK[b] > STATUS_RANK[a] ? b : a), 'ok');
  if (judged.length < instances.length && worst === 'ok') return undefined;
  const telling = [...instances].sort((a, b) => (STATE_RANK[b.state ?? ''] ?? 0) - (STATE_RANK[a.state ?? ''] ?? 0) || b.try_number - a.try_number)[0];
  if (telling === undefined) return undefined;
  const asset = airflowAsset(run.dag_id);
  const failing = statuses.filter((status) => status === worst).length;
  const mapped = instances.length > 1 && worst !== 'ok' ? ` (${failing} of ${instances.length} mapped instances)` : '';
  return {
    check: airflowCheck(run.dag_id, telling.task_id),
    kind: 'run',
    asset,
    status: worst,
    observed: telling.try_number,
    ...(run.logical_date ? { bucket: run.logical_date.toISOString() } : {}),
    message: `${asset}: ${describeTask(telling, run.run_id)}${mapped}`,
  };
}

/** Findings for one DAG's newest run: the run's own status once it ended, and each task's. */
export function evaluateRunStatus(run: AirflowRunRow, instances: readonly AirflowTaskInstanceRow[]): Finding[] {
  const findings: Finding[] = [];
  const asset = airflowAsset(run.dag_id);
  const bucket = run.logical_date ? { bucket: run.logical_date.toISOString() } : {};
  if (run.state === 'failed' || run.state === 'success') {
    const failedTasks = [...new Set(instances.filter((ti) => ti.state === 'failed').map((ti) => ti.task_id))];
    const because = failedTasks.length > 0 ? ` (failed tasks: ${failedTasks.join(', ')})` : '';
    findings.push({
      check: airflowCheck(run.dag_id),
      kind: 'run',
      asset,
      status: run.state === 'failed' ? 'fail' : 'ok',
      observed: null,
      ...bucket,
      message: run.state === 'failed' ? `${asset}: run ${run.run_id} failed${because}` : `${asset}: run ${run.run_id} succeeded`,
    });
  }
  const byTask = new Map<string, AirflowTaskInstanceRow[]>();
  for (const instance of instances) {
    const list = byTask.get(instance.task_id);
    if (list) list.push(instance);
    else byTask.set(instance.task_id, [instance]);
  }
  for (const list of byTask.values()) {
    const finding = taskFinding(run, list);
    if (finding) findings.push(finding);
  }
  return findings;
}
