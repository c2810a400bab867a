// Scheduled runs that never started. Two ways a run goes missing: it was created but sits queued
// (no free slot, executor down, pool exhausted), or the scheduler never created it at all (the
// scheduler is down or stuck; the DAG's next_dagrun_create_after then stays in the past).
// Either is reported once the grace `notStartedAfterMs` has passed; a queued run is the more
// specific story, so it wins when both hold.

import { formatAge } from '../../detect/format-age.ts';
import type { Finding } from '../../types.ts';
import { airflowAsset, airflowCheck } from './airflow-findings-common.ts';
import type { AirflowDagRow, AirflowQueuedRunRow } from './airflow-rows.ts';

export function evaluateSchedule(dag: AirflowDagRow, queued: AirflowQueuedRunRow | undefined, notStartedAfterMs: number, now: Date): Finding {
  const asset = airflowAsset(dag.dag_id);
  const base = { check: airflowCheck(dag.dag_id, 'schedule'), kind: 'run' as const, asset, expected: { low: null, high: notStartedAfterMs / 1000 } };
  const grace = formatAge(notStartedAfterMs);
  if (queued) {
    const waitedMs = now.getTime() - queued.waiting_since.getTime();
    if (waitedMs > notStartedAfterMs) {
      return {
        ...base,
        status: 'fail',
        observed: waitedMs / 1000,
        bucket: queued.waiting_since.toISOString(),
        message: `${asset}: run ${queued.run_id} has been ${queued.state} for ${formatAge(waitedMs)} without starting (allowed ${grace}); check the executor, pools and max_active_runs`,
      };
    }
  }
  const due = dag.next_dagrun_create_after;
  if (due !== null) {
    const lateMs = now.getTime() - due.getTime();
    if (lateMs > notStartedAfterMs) {
      const which = dag.next_dagrun ? `the run for ${dag.next_dagrun.toISOString()}` : 'the next run';
      return {
        ...base,
        status: 'fail',
        observed: lateMs / 1000,
        bucket: due.toISOString(),
        message: `${asset}: ${which} was due at ${due.toISOString()} and was never created (${formatAge(lateMs)} late, allowed ${grace}); check that the Airflow scheduler is running`,
      };
    }
  }
  const waited = queued ? (now.getTime() - queued.waiting_since.getTime()) / 1000 : 0;
  return { ...base, status: 'ok', observed: waited, message: `${asset}: scheduled runs start on time` };
}
