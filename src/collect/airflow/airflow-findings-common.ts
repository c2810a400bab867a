// Names shared by the Airflow evaluators: the asset key and check ids of a DAG, and the settings
// the pure evaluators take (the config, turned into numbers once).

import { BAND_SIGMAS } from '../../detect/baseline.ts';
import { checkId } from '../../types.ts';
import type { AirflowSourceConfig } from './airflow-config.ts';

export interface AirflowEvaluationSettings {
  /** A run may wait this long to start, or to be created after it was due. */
  notStartedAfterMs: number;
  longRun: {
    /** Robust sigmas above the median a run may last. */
    sigmas: number;
    /** How many recent successful runs make the usual duration. */
    history: number;
    /** Fewer than this: no judgement. */
    minHistory: number;
    /** A run must exceed its median by at least this much to count. */
    minExcessMs: number;
  };
}

export function airflowEvaluationSettings(source: AirflowSourceConfig): AirflowEvaluationSettings {
  return {
    notStartedAfterMs: source.not_started_after,
    longRun: {
      sigmas: BAND_SIGMAS[source.long_run.sensitivity],
      history: source.long_run.history,
      minHistory: source.long_run.min_history,
      minExcessMs: source.long_run.min_excess,
    },
  };
}

/** The asset a DAG is: `airflow:<dag_id>`. */
export function airflowAsset(dagId: string): string {
  return `airflow:${dagId}`;
}

/** `run:airflow:<dag_id>`, or with a suffix: a task id, `duration` or `schedule`. */
export function airflowCheck(dagId: string, suffix?: string): string {
  return checkId('run', airflowAsset(dagId), suffix);
}
