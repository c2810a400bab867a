// The Airflow metadata tables pipewarden reads, as Airflow 2 (2.x, PostgreSQL) and Airflow 3 create
// them: the columns documented in shared/fixtures/notes/airflow_metadata_db_task_instance_dag_run.md
// with their types, keys and defaults (foreign keys to tables the tests do not need, such as
// trigger, dag_version, log_template and backfill, are left out). The `dag` table keeps the
// columns the reader uses, as Airflow's DagModel declares them (2.x: is_active, schedule_interval;
// 3.x: is_stale, timetable_summary).
//
// AirflowScheduler writes rows the way Airflow's scheduler and workers do, so tests drive real
// states through real tables.

import type pg from 'pg';

export type AirflowVersion = 2 | 3;

const AIRFLOW_2 = `
create table dag (
  dag_id varchar(250) primary key,
  root_dag_id varchar(250),
  is_paused boolean,
  is_subdag boolean,
  is_active boolean,
  last_parsed_time timestamptz,
  fileloc varchar(2000),
  owners varchar(2000),
  schedule_interval text,
  timetable_description varchar(1000),
  max_active_tasks integer not null default 16,
  max_active_runs integer,
  has_task_concurrency_limits boolean not null default true,
  has_import_errors boolean default false,
  next_dagrun timestamptz,
  next_dagrun_data_interval_start timestamptz,
  next_dagrun_data_interval_end timestamptz,
  next_dagrun_create_after timestamptz
);
create index idx_next_dagrun_create_after on dag (next_dagrun_create_after);

create table dag_run (
  id serial primary key,
  dag_id varchar(250) not null,
  queued_at timestamptz,
  execution_date timestamptz not null,
  start_date timestamptz,
  end_date timestamptz,
  state varchar(50),
  run_id varchar(250) not null,
  creating_job_id integer,
  external_trigger boolean,
  run_type varchar(50) not null,
  conf bytea,
  data_interval_start timestamptz,
  data_interval_end timestamptz,
  last_scheduling_decision timestamptz,
  dag_hash varchar(32),
  log_template_id integer,
  updated_at timestamptz,
  clear_number integer not null default 0,
  constraint dag_run_dag_id_execution_date_key unique (dag_id, execution_date),
  constraint dag_run_dag_id_run_id_key unique (dag_id, run_id)
);
create index dag_id_state on dag_run (dag_id, state);

create table task_instance (
  task_id varchar(250) not null,
  dag_id varchar(250) not null,
  run_id varchar(250) not null,
  map_index integer not null default -1,
  start_date timestamptz,
  end_date timestamptz,
  duration double precision,
  state varchar(20),
  try_number integer,
  max_tries integer default -1,
  hostname varchar(1000),
  unixname varchar(1000),
  job_id integer,
  pool varchar(256) not null,
  pool_slots integer not null,
  queue varchar(256),
  priority_weight integer,
  operator varchar(1000),
  custom_operator_name varchar(1000),
  queued_dttm timestamptz,
  queued_by_job_id integer,
  pid integer,
  executor varchar(1000),
  executor_config bytea,
  updated_at timestamptz,
  rendered_map_index varchar(250),
  external_executor_id varchar(250),
  trigger_id integer,
  trigger_timeout timestamp,
  next_method varchar(1000),
  next_kwargs json,
  task_display_name varchar(2000),
  constraint task_instance_pkey primary key (dag_id, task_id, run_id, map_index),
  constraint task_instance_dag_run_fkey foreign key (dag_id, run_id) references dag_run (dag_id, run_id) on delete cascade
);
create index ti_dag_state on task_instance (dag_id, state);
create index ti_state_lkp on task_instance (dag_id, task_id, run_id, state);
`;

const AIRFLOW_3 = `
create table dag (
  dag_id varchar(250) primary key,
  is_paused boolean,
  is_stale boolean,
  last_parsed_time timestamptz,
  fileloc varchar(2000),
  owners varchar(2000),
  timetable_summary text,
  timetable_description varchar(1000),
  max_active_tasks integer not null default 16,
  max_active_runs integer,
  max_consecutive_failed_dag_runs integer not null default 0,
  has_task_concurrency_limits boolean not null default true,
  has_import_errors boolean default false,
  next_dagrun timestamptz,
  next_dagrun_data_interval_start timestamptz,
  next_dagrun_data_interval_end timestamptz,
  next_dagrun_create_after timestamptz
);
create index idx_next_dagrun_create_after on dag (next_dagrun_create_after);

create table dag_run (
  id serial primary key,
  dag_id varchar(250) not null,
  queued_at timestamptz,
  logical_date timestamptz,
  start_date timestamptz,
  end_date timestamptz,
  state varchar(50) default 'queued',
  run_id varchar(250) not null,
  creating_job_id integer,
  run_type varchar(50) not null,
  triggered_by varchar(50),
  triggering_user_name varchar(512),
  conf jsonb,
  data_interval_start timestamptz,
  data_interval_end timestamptz,
  run_after timestamptz not null,
  last_scheduling_decision timestamptz,
  log_template_id integer,
  created_at timestamptz,
  updated_at timestamptz,
  clear_number integer not null default 0,
  backfill_id integer,
  bundle_version varchar(250),
  scheduled_by_job_id integer,
  context_carrier jsonb,
  span_status varchar(250) not null default 'not_started',
  created_dag_version_id uuid,
  partition_key varchar(250),
  partition_date timestamptz,
  constraint dag_run_dag_id_run_id_key unique (dag_id, run_id),
  constraint dag_run_dag_id_logical_date_key unique (dag_id, logical_date)
);
create index dag_id_state on dag_run (dag_id, state);
create index idx_dag_run_dag_id on dag_run (dag_id);
create index idx_dag_run_run_after on dag_run (run_after);
create index idx_dag_run_running_dags on dag_run (state, dag_id) where state = 'running';
create index idx_dag_run_queued_dags on dag_run (state, dag_id) where state = 'queued';

create table task_instance (
  id uuid primary key,
  task_id varchar(250) not null,
  dag_id varchar(250) not null,
  run_id varchar(250) not null,
  map_index integer not null default -1,
  start_date timestamptz,
  end_date timestamptz,
  duration double precision,
  state varchar(20),
  try_number integer default 0,
  max_tries integer default -1,
  hostname varchar(1000),
  unixname varchar(1000),
  pool varchar(256) not null,
  pool_slots integer not null default 1,
  queue varchar(256),
  priority_weight integer,
  operator varchar(1000),
  custom_operator_name varchar(1000),
  queued_dttm timestamptz,
  scheduled_dttm timestamptz,
  queued_by_job_id integer,
  last_heartbeat_at timestamptz,
  pid integer,
  executor varchar(1000),
  executor_config bytea,
  updated_at timestamptz,
  rendered_map_index varchar(250),
  context_carrier jsonb,
  span_status varchar(250) not null default 'not_started',
  external_executor_id varchar(250),
  trigger_id integer,
  trigger_timeout timestamptz,
  next_method varchar(1000),
  next_kwargs jsonb,
  task_display_name varchar(2000),
  dag_version_id uuid not null,
  constraint task_instance_composite_key unique (dag_id, task_id, run_id, map_index),
  constraint task_instance_dag_run_fkey foreign key (dag_id, run_id) references dag_run (dag_id, run_id) on delete cascade
);
create index ti_dag_state on task_instance (dag_id, state);
create index ti_dag_run on task_instance (dag_id, run_id);
create index ti_state on task_instance (state);
create index ti_state_lkp on task_instance (dag_id, task_id, run_id, state);
create index ti_heartbeat on task_instance (last_heartbeat_at);
`;

export async function createAirflowTables(pool: pg.Pool, version: AirflowVersion, schema = 'public'): Promise<void> {
  // Schema names here are test constants, never input.
  await pool.query(`create schema if not exists "${schema}"; set search_path to "${schema}"; ${version === 2 ? AIRFLOW_2 : AIRFLOW_3}; set search_path to default`);
}

const DAG_VERSION_ID = '0196f3a0-0000-7000-8000-000000000001';

/** Writes rows the way Airflow's scheduler and workers would, for one schema version. */
export class AirflowScheduler {
  readonly #pool: pg.Pool;
  readonly #version: AirflowVersion;
  readonly #schema: string;

  constructor(pool: pg.Pool, version: AirflowVersion, schema = 'public') {
    this.#pool = pool;
    this.#version = version;
    this.#schema = schema;
  }

  #table(name: string): string {
    return `"${this.#schema}"."${name}"`;
  }

  /** The DAG processor registering a DAG file; the scheduler sets its next run. */
  async addDag(dagId: string, options: { paused?: boolean; nextRunAt?: Date | null; nextLogicalDate?: Date | null } = {}): Promise<void> {
    const active = this.#version === 2 ? 'is_active' : 'is_stale';
    const schedule = this.#version === 2 ? 'schedule_interval' : 'timetable_summary';
    await this.#pool.query(
      `insert into ${this.#table('dag')} (dag_id, is_paused, ${active}, ${schedule}, next_dagrun, next_dagrun_create_after)
       values ($1, $2, $3, '0 8 * * *', $4, $5)`,
      [dagId, options.paused ?? false, this.#version === 2, options.nextLogicalDate ?? null, options.nextRunAt ?? null],
    );
  }

  async setPaused(dagId: string, paused: boolean): Promise<void> {
    await this.#pool.query(`update ${this.#table('dag')} set is_paused = $2 where dag_id = $1`, [dagId, paused]);
  }

  /** The scheduler creating a scheduled run (queued) due at `due`. */
  async createRun(dagId: string, due: Date, queuedAt: Date = due): Promise<string> {
    const runId = `scheduled__${due.toISOString().replace('.000Z', '+00:00')}`;
    if (this.#version === 2) {
      await this.#pool.query(
        `insert into ${this.#table('dag_run')} (dag_id, run_id, execution_date, queued_at, state, run_type, external_trigger, data_interval_start, data_interval_end)
         values ($1, $2, $3, $4, 'queued', 'scheduled', false, $3, $3)`,
        [dagId, runId, due, queuedAt],
      );
    } else {
      await this.#pool.query(
        `insert into ${this.#table('dag_run')} (dag_id, run_id, logical_date, run_after, queued_at, state, run_type, triggered_by, data_interval_start, data_interval_end)
         values ($1, $2, $3, $3, $4, 'queued', 'scheduled', 'timetable', $3, $3)`,
        [dagId, runId, due, queuedAt],
      );
    }
    return runId;
  }

  async startRun(dagId: string, runId: string, at: Date): Promise<void> {
    await this.#pool.query(`update ${this.#table('dag_run')} set state = 'running', start_date = $3, updated_at = $3 where dag_id = $1 and run_id = $2`, [dagId, runId, at]);
  }

  async finishRun(dagId: string, runId: string, state: 'success' | 'failed', at: Date): Promise<void> {
    await this.#pool.query(`update ${this.#table('dag_run')} set state = $3, end_date = $4, updated_at = $4 where dag_id = $1 and run_id = $2`, [dagId, runId, state, at]);
  }

  /** A task instance reaching `state` on try `tryNumber` (inserted on first sight, updated after). */
  async setTask(dagId: string, runId: string, taskId: string, state: string | null, tryNumber: number, mapIndex = -1): Promise<void> {
    const id = this.#version === 3 ? ', id, dag_version_id' : '';
    const idValues = this.#version === 3 ? ', gen_random_uuid(), $6' : '';
    const params: unknown[] = [dagId, runId, taskId, state, tryNumber];
    if (this.#version === 3) params.push(DAG_VERSION_ID);
    await this.#pool.query(
      `insert into ${this.#table('task_instance')} (dag_id, run_id, task_id, state, try_number, map_index, pool, pool_slots${id})
       values ($1, $2, $3, $4, $5, ${Number(mapIndex)}, 'default_pool', 1${idValues})
       on conflict (dag_id, task_id, run_id, map_index) do update set state = excluded.state, try_number = excluded.try_number`,
      params,
    );
  }

  /** A whole successful run: created at `due`, ran `minutes` long with one task. */
  async successfulRun(dagId: string, due: Date, minutes: number, taskId = 'work'): Promise<string> {
    const runId = await this.createRun(dagId, due);
    await this.startRun(dagId, runId, due);
    await this.setTask(dagId, runId, taskId, 'success', 1);
    await this.finishRun(dagId, runId, 'success', new Date(due.getTime() + minutes * 60_000));
    return runId;
  }
}
