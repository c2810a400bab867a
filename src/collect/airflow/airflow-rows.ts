// What the reader returns from an Airflow metadata database: plain rows, the same shape for
// Airflow 2 and 3 (the queries rename columns so the evaluator never sees the difference).

export interface AirflowDagRow {
  dag_id: string;
  is_paused: boolean;
  /** Airflow 2 `is_active`, Airflow 3 `NOT is_stale`: the DAG file still exists. */
  is_active: boolean;
  /** Logical date of the next run the scheduler will create. */
  next_dagrun: Date | null;
  /** Earliest time the scheduler creates that run. */
  next_dagrun_create_after: Date | null;
  /** Airflow 2 `schedule_interval`, Airflow 3 `timetable_summary`. */
  schedule: string | null;
}

export interface AirflowRunRow {
  dag_id: string;
  run_id: string;
  state: string;
  /** Airflow 2 `execution_date`, Airflow 3 `logical_date`. */
  logical_date: Date | null;
  start_date: Date | null;
  end_date: Date | null;
}

export interface AirflowTaskInstanceRow {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  /** NULL: created, never scheduled. Unknown strings are kept as they are. */
  state: string | null;
  try_number: number;
}

export interface AirflowRunDurationRow {
  dag_id: string;
  run_id: string;
  duration_seconds: number;
}

export interface AirflowQueuedRunRow {
  dag_id: string;
  run_id: string;
  state: string;
  /** Airflow 3: the later of `queued_at` and `run_after`; Airflow 2: `queued_at`, else `execution_date`. */
  waiting_since: Date;
}

/** Everything one read returns, for the DAGs the source's globs select. */
export interface AirflowSnapshot {
  version: 2 | 3;
  dags: AirflowDagRow[];
  /** The newest started run (running, success or failed) of each DAG within the lookback. */
  newestRuns: AirflowRunRow[];
  /** Task instances of those runs. */
  taskInstances: AirflowTaskInstanceRow[];
  /** Recent successful runs per DAG, newest first, for their usual duration. */
  durations: AirflowRunDurationRow[];
  /** The oldest run still waiting to start, per DAG. */
  queuedRuns: AirflowQueuedRunRow[];
}
