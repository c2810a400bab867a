// Every statement pipewarden sends to an Airflow metadata database. Table and column names come
// from the detected layout (constants, quoted with the one helper); DAG ids, run ids and times
// are always parameters, so a DAG named `x'; drop table dag; --` is only ever data.

import { quoteIdentifier } from '../../warehouse/quote.ts';
import type { StatementClient } from '../../warehouse/postgres-session.ts';
import type { AirflowLayout } from './airflow-layout.ts';
import type { AirflowDagRow, AirflowQueuedRunRow, AirflowRunDurationRow, AirflowRunRow, AirflowTaskInstanceRow } from './airflow-rows.ts';

function table(layout: AirflowLayout, name: string): string {
  return `${quoteIdentifier(layout.schema)}.${quoteIdentifier(name)}`;
}

function activeExpression(layout: AirflowLayout): string {
  if (layout.dagActive === 'not_stale') return `not coalesce(${quoteIdentifier('is_stale')}, false)`;
  if (layout.dagActive === 'is_active') return `coalesce(${quoteIdentifier('is_active')}, false)`;
  return 'true';
}

/** Runs sort by when they were due: Airflow 3's run_after, else Airflow 2's execution date. */
function dueExpression(layout: AirflowLayout): string {
  return quoteIdentifier(layout.runAfter ?? layout.logicalDate);
}

export async function selectAirflowDags(client: StatementClient, layout: AirflowLayout): Promise<AirflowDagRow[]> {
  const schedule = layout.dagSchedule ? `${quoteIdentifier(layout.dagSchedule)}::text` : 'null::text';
  const { rows } = await client.query<AirflowDagRow>(
    `select dag_id, coalesce(is_paused, false) as is_paused, ${activeExpression(layout)} as is_active,
            next_dagrun, next_dagrun_create_after, ${schedule} as schedule
       from ${table(layout, 'dag')}
      order by dag_id`,
  );
  return rows;
}

/** The newest started run of each DAG: still running, or ended within the lookback. */
export async function selectNewestRuns(client: StatementClient, layout: AirflowLayout, dagIds: readonly string[], since: Date): Promise<AirflowRunRow[]> {
  const { rows } = await client.query<AirflowRunRow>(
    `select distinct on (dag_id) dag_id, run_id, state, ${quoteIdentifier(layout.logicalDate)} as logical_date, start_date, end_date
       from ${table(layout, 'dag_run')}
      where dag_id = any($1::text[])
        and state in ('running', 'success', 'failed')
        and (state = 'running' or coalesce(end_date, start_date) >= $2)
      order by dag_id, ${dueExpression(layout)} desc nulls last, id desc`,
    [dagIds, since],
  );
  return rows;
}

export async function selectRunTaskInstances(client: StatementClient, layout: AirflowLayout, runs: readonly AirflowRunRow[]): Promise<AirflowTaskInstanceRow[]> {
  if (runs.length === 0) return [];
  const { rows } = await client.query<AirflowTaskInstanceRow>(
    `select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state, coalesce(ti.try_number, 0) as try_number
       from ${table(layout, 'task_instance')} as ti
       join unnest($1::text[], $2::text[]) as run(dag_id, run_id)
         on ti.dag_id = run.dag_id and ti.run_id = run.run_id
      order by ti.dag_id, ti.task_id, ti.map_index`,
    [runs.map((run) => run.dag_id), runs.map((run) => run.run_id)],
  );
  return rows;
}

/** The last `limit` successful runs of each DAG with their durations in seconds, newest first. */
export async function selectSuccessfulDurations(client: StatementClient, layout: AirflowLayout, dagIds: readonly string[], limit: number): Promise<AirflowRunDurationRow[]> {
  const { rows } = await client.query<AirflowRunDurationRow>(
    `select dag.dag_id, recent.run_id, recent.duration_seconds
       from unnest($1::text[]) as dag(dag_id)
       cross join lateral (
         select run_id, extract(epoch from (end_date - start_date))::float8 as duration_seconds
           from ${table(layout, 'dag_run')} as run
          where run.dag_id = dag.dag_id and run.state = 'success'
            and run.start_date is not null and run.end_date is not null
          order by run.start_date desc, run.id desc
          limit $2
       ) as recent
      order by dag.dag_id`,
    [dagIds, limit],
  );
  return rows;
}

/** The run of each DAG that has waited longest to start (Airflow 3 may also say `scheduled`). */
export async function selectQueuedRuns(client: StatementClient, layout: AirflowLayout, dagIds: readonly string[]): Promise<AirflowQueuedRunRow[]> {
  // Airflow 3 cannot start a run before run_after (greatest() skips NULLs); Airflow 2 queues at creation.
  const waitingSince = layout.runAfter
    ? `greatest(queued_at, ${quoteIdentifier(layout.runAfter)})`
    : `coalesce(queued_at, ${quoteIdentifier(layout.logicalDate)})`;
  const { rows } = await client.query<AirflowQueuedRunRow>(
    `select distinct on (dag_id) dag_id, run_id, state, ${waitingSince} as waiting_since
       from ${table(layout, 'dag_run')}
      where dag_id = any($1::text[])
        and state in ('queued', 'scheduled')
        and start_date is null
        and ${waitingSince} is not null
      order by dag_id, ${waitingSince} asc, id asc`,
    [dagIds],
  );
  return rows;
}
