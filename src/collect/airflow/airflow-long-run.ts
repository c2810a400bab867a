// Is a DAG's newest run far longer than its own recent successful runs? Centre: the median
// duration; spread: MAD × 1.4826, floored at 5 % of the median (a DAG that always takes exactly
// 10 minutes still wiggles). A run counts when it is above median + k·spread and at least
// `minExcessMs` above the median. A finished long run warns (it is late, not broken); one still
// running past the limit fails, since it is probably stuck and holding up everything after it.

import { formatAge } from '../../detect/format-age.ts';
import { mad, median } from '../../detect/robust-stats.ts';
import type { Finding } from '../../types.ts';
import { airflowAsset, airflowCheck } from './airflow-findings-common.ts';
import type { AirflowEvaluationSettings } from './airflow-findings-common.ts';
import type { AirflowRunDurationRow, AirflowRunRow } from './airflow-rows.ts';

const SPREAD_FLOOR = 0.05;

/**
 * `history`: the DAG's recent successful runs, newest first; the run under test is left out so a
 * long run never vouches for itself. Undefined when there is too little history to judge.
 */
export function evaluateLongRun(run: AirflowRunRow, history: readonly AirflowRunDurationRow[], settings: AirflowEvaluationSettings['longRun'], now: Date): Finding | undefined {
  if (run.start_date === null) return undefined;
  const past = history.filter((row) => row.run_id !== run.run_id && row.duration_seconds >= 0).slice(0, settings.history);
  if (past.length < settings.minHistory) return undefined;
  const durations = past.map((row) => row.duration_seconds);
  const centre = median(durations);
  const spread = Math.max(mad(durations, centre), SPREAD_FLOOR * centre);
  const high = centre + Math.max(settings.sigmas * spread, settings.minExcessMs / 1000);
  const running = run.end_date === null;
  const observed = ((run.end_date ?? now).getTime() - run.start_date.getTime()) / 1000;
  const asset = airflowAsset(run.dag_id);
  const usual = `usually ${formatAge(centre * 1000)}, at most ${formatAge(high * 1000)} over the last ${past.length} successful runs`;
  const over = observed > high;
  const message = running
    ? `${asset}: run ${run.run_id} has been running for ${formatAge(observed * 1000)} (${usual})`
    : `${asset}: run ${run.run_id} took ${formatAge(observed * 1000)} (${usual})`;
  return {
    check: airflowCheck(run.dag_id, 'duration'),
    kind: 'run',
    asset,
    status: over ? (running ? 'fail' : 'warn') : 'ok',
    observed,
    expected: { low: null, high },
    // In the band's own sigmas: `sigmas` exactly at the limit.
    score: ((observed - centre) / (high - centre)) * settings.sigmas,
    ...(run.logical_date ? { bucket: run.logical_date.toISOString() } : {}),
    message,
  };
}
