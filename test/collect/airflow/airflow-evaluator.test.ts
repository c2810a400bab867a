// The pure Airflow rules on plain rows: history requirements, flat histories, mapped tasks,
// unknown states, inactive DAGs and the schedule grace.

import { describe, expect, it } from 'vitest';
import { evaluateAirflow } from '../../../src/collect/airflow/airflow-evaluator.ts';
import type { AirflowEvaluationSettings } from '../../../src/collect/airflow/airflow-findings-common.ts';
import type { AirflowDagRow, AirflowRunRow, AirflowSnapshot, AirflowTaskInstanceRow } from '../../../src/collect/airflow/airflow-rows.ts';

const NOW = new Date('2025-06-02T12:00:00Z');
const SETTINGS: AirflowEvaluationSettings = { notStartedAfterMs: 15 * 60_000, longRun: { sigmas: 4, history: 20, minHistory: 5, minExcessMs: 60_000 } };

function dag(overrides: Partial<AirflowDagRow> = {}): AirflowDagRow {
  return { dag_id: 'd', is_paused: false, is_active: true, next_dagrun: null, next_dagrun_create_after: null, schedule: '@daily', ...overrides };
}

function run(overrides: Partial<AirflowRunRow> = {}): AirflowRunRow {
  return { dag_id: 'd', run_id: 'r', state: 'success', logical_date: new Date('2025-06-02T08:00:00Z'), start_date: new Date('2025-06-02T08:00:00Z'), end_date: null, ...overrides };
}

function ti(task: string, state: string | null, tryNumber = 1, mapIndex = -1): AirflowTaskInstanceRow {
  return { dag_id: 'd', run_id: 'r', task_id: task, map_index: mapIndex, state, try_number: tryNumber };
}

function snapshot(overrides: Partial<AirflowSnapshot> = {}): AirflowSnapshot {
  return { version: 3, dags: [dag()], newestRuns: [], taskInstances: [], durations: [], queuedRuns: [], ...overrides };
}

const history = (seconds: readonly number[]) => seconds.map((duration_seconds, i) => ({ dag_id: 'd', run_id: `old${i}`, duration_seconds }));
const endedAfter = (seconds: number) => new Date(new Date('2025-06-02T08:00:00Z').getTime() + seconds * 1000);
const find = (findings: ReturnType<typeof evaluateAirflow>, check: string) => findings.find((finding) => finding.check === check);

describe('evaluateAirflow', () => {
  it('does not judge a duration with less history than min_history', () => {
    const findings = evaluateAirflow(snapshot({ newestRuns: [run({ end_date: endedAfter(99_999) })], durations: history([600, 600, 600, 600]) }), SETTINGS, NOW);
    expect(find(findings, 'run:airflow:d:duration')).toBeUndefined();
  });

  it('never lets the run under test count as its own history', () => {
    const durations = [...history([600, 600, 600, 600]), { dag_id: 'd', run_id: 'r', duration_seconds: 99_999 }];
    const findings = evaluateAirflow(snapshot({ newestRuns: [run({ end_date: endedAfter(99_999) })], durations }), SETTINGS, NOW);
    expect(find(findings, 'run:airflow:d:duration')).toBeUndefined();
  });

  it('gives a perfectly steady DAG a floor of 5 % of its median per sigma and min_excess', () => {
    const steady = history([600, 600, 600, 600, 600, 600]);
    const within = evaluateAirflow(snapshot({ newestRuns: [run({ end_date: endedAfter(715) })], durations: steady }), SETTINGS, NOW);
    expect(find(within, 'run:airflow:d:duration')).toMatchObject({ status: 'ok', observed: 715, expected: { low: null, high: 720 } });
    const over = evaluateAirflow(snapshot({ newestRuns: [run({ end_date: endedAfter(730) })], durations: steady }), SETTINGS, NOW);
    expect(find(over, 'run:airflow:d:duration')?.status).toBe('warn');
    const shortRuns = evaluateAirflow(snapshot({ newestRuns: [run({ end_date: endedAfter(50) })], durations: history([10, 10, 10, 10, 10]) }), SETTINGS, NOW);
    // 10 s runs: 50 s is five times as long but within the one-minute min_excess.
    expect(find(shortRuns, 'run:airflow:d:duration')).toMatchObject({ status: 'ok', expected: { high: 70 } });
  });

  it('fails a mapped task when one instance failed, and waits while others still run', () => {
    const failed = evaluateAirflow(
      snapshot({ newestRuns: [run({ state: 'running' })], taskInstances: [ti('m', 'success', 1, 0), ti('m', 'failed', 2, 1), ti('m', 'running', 1, 2)] }),
      SETTINGS,
      NOW,
    );
    expect(find(failed, 'run:airflow:d:m')).toMatchObject({ status: 'fail', observed: 2, message: 'airflow:d: task m failed on try 2 in run r (1 of 3 mapped instances)' });
    const running = evaluateAirflow(snapshot({ newestRuns: [run({ state: 'running' })], taskInstances: [ti('m', 'success', 1, 0), ti('m', 'running', 1, 1)] }), SETTINGS, NOW);
    expect(find(running, 'run:airflow:d:m')).toBeUndefined();
  });

  it('leaves states it does not know, and unscheduled tasks, unjudged', () => {
    const findings = evaluateAirflow(snapshot({ newestRuns: [run({ state: 'running' })], taskInstances: [ti('a', 'sensing'), ti('b', 'shutdown'), ti('c', null, 0)] }), SETTINGS, NOW);
    expect(findings.filter((finding) => finding.check.startsWith('run:airflow:d:') && !finding.check.endsWith(':schedule') && !finding.check.endsWith(':duration'))).toEqual([]);
  });

  it('judges nothing of a DAG whose file is gone', () => {
    const findings = evaluateAirflow(
      snapshot({ dags: [dag({ is_active: false, next_dagrun_create_after: new Date('2025-06-01T00:00:00Z') })], newestRuns: [run({ state: 'failed' })] }),
      SETTINGS,
      NOW,
    );
    expect(findings).toEqual([]);
  });

  it('allows the grace, and reports a queued run before a run never created', () => {
    const waiting = (minutes: number) => ({ dag_id: 'd', run_id: 'q', state: 'queued', waiting_since: new Date(NOW.getTime() - minutes * 60_000) });
    const overdue = dag({ next_dagrun_create_after: new Date(NOW.getTime() - 60 * 60_000) });
    expect(find(evaluateAirflow(snapshot({ queuedRuns: [waiting(10)] }), SETTINGS, NOW), 'run:airflow:d:schedule')).toMatchObject({ status: 'ok', observed: 600 });
    expect(find(evaluateAirflow(snapshot({ dags: [overdue], queuedRuns: [waiting(20)] }), SETTINGS, NOW), 'run:airflow:d:schedule')?.message).toMatch(/^airflow:d: run q has been queued for 20m/);
    expect(find(evaluateAirflow(snapshot({ dags: [dag({ next_dagrun_create_after: new Date(NOW.getTime() - 14 * 60_000) })] }), SETTINGS, NOW), 'run:airflow:d:schedule')?.status).toBe('ok');
  });
});
