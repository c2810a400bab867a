// Airflow 2 and 3 keep the same facts under different column names. The layout is read once per
// connection from information_schema and names the columns the queries use, so one set of
// queries serves both versions and a missing column is reported by name instead of failing
// later in the middle of a statement.

import { PipewardenError } from '../../errors.ts';
import type { StatementClient } from '../../warehouse/postgres-session.ts';

export interface AirflowLayout {
  version: 2 | 3;
  schema: string;
  /** `logical_date` (3) or `execution_date` (2). */
  logicalDate: string;
  /** `run_after` (3): when a run became due; Airflow 2 has only the logical date. */
  runAfter: string | undefined;
  /** SQL for "the DAG file still exists", built from constant column names. */
  dagActive: 'is_active' | 'not_stale' | 'always';
  /** `timetable_summary` (3), `schedule_interval` (2), or none. */
  dagSchedule: string | undefined;
}

interface ColumnRow {
  table_schema: string;
  /** NULL on the one row returned when the schema has none of the tables. */
  table_name: string | null;
  column_name: string | null;
}

const TABLES = ['dag', 'dag_run', 'task_instance'];

const REQUIRED: Record<string, readonly string[]> = {
  dag: ['dag_id', 'is_paused', 'next_dagrun', 'next_dagrun_create_after'],
  dag_run: ['id', 'dag_id', 'run_id', 'state', 'start_date', 'end_date', 'queued_at'],
  task_instance: ['dag_id', 'task_id', 'run_id', 'map_index', 'state', 'try_number'],
};

// The schema is resolved in the same statement so an error can name it even when it is empty.
function selectAirflowColumns(client: StatementClient, schema: string | undefined) {
  return client.query<ColumnRow>(
    `select target.table_schema, c.table_name, c.column_name
       from (select coalesce($1::text, current_schema()) as table_schema) as target
       left join information_schema.columns as c
         on c.table_schema = target.table_schema and c.table_name = any($2::text[])`,
    [schema ?? null, TABLES],
  );
}

/** Which Airflow schema this database holds; a clear error when it is not one pipewarden can read. */
export async function detectAirflowLayout(client: StatementClient, source: string, schema: string | undefined): Promise<AirflowLayout> {
  const { rows } = await selectAirflowColumns(client, schema);
  const columns = new Map<string, Set<string>>(TABLES.map((table) => [table, new Set()]));
  for (const row of rows) if (row.table_name !== null && row.column_name !== null) columns.get(row.table_name)?.add(row.column_name);
  // current_schema() is NULL when no schema on the search path exists.
  const foundSchema = rows[0]?.table_schema ?? schema ?? '(none on the search path)';
  const missing = Object.entries(REQUIRED).flatMap(([table, names]) => names.filter((name) => !columns.get(table)?.has(name)).map((name) => `${table}.${name}`));
  if (missing.length > 0) {
    const noTables = [...columns.values()].every((names) => names.size === 0);
    throw new PipewardenError(
      'airflow_schema_unknown',
      noTables
        ? `Airflow source "${source}": no Airflow tables (dag, dag_run, task_instance) in schema ${JSON.stringify(foundSchema)}. Check airflow[].url points at the Airflow metadata database, and set airflow[].schema if Airflow uses sql_alchemy_schema; the role also needs SELECT on these tables.`
        : `Airflow source "${source}": the metadata database in schema ${JSON.stringify(foundSchema)} lacks ${missing.join(', ')}. pipewarden reads Airflow 2.2+ and 3.x schemas; run \`airflow db migrate\` on an older Airflow or report the version.`,
    );
  }
  const dagRun = columns.get('dag_run') as Set<string>;
  const dag = columns.get('dag') as Set<string>;
  const logicalDate = dagRun.has('logical_date') ? 'logical_date' : dagRun.has('execution_date') ? 'execution_date' : undefined;
  if (logicalDate === undefined) {
    throw new PipewardenError(
      'airflow_schema_unknown',
      `Airflow source "${source}": dag_run in schema ${JSON.stringify(foundSchema)} has neither logical_date (Airflow 3) nor execution_date (Airflow 2); this is not an Airflow schema pipewarden can read.`,
    );
  }
  const version = logicalDate === 'logical_date' || columns.get('task_instance')?.has('id') ? 3 : 2;
  return {
    version,
    schema: foundSchema,
    logicalDate,
    runAfter: dagRun.has('run_after') ? 'run_after' : undefined,
    dagActive: dag.has('is_stale') ? 'not_stale' : dag.has('is_active') ? 'is_active' : 'always',
    dagSchedule: dag.has('timetable_summary') ? 'timetable_summary' : dag.has('schedule_interval') ? 'schedule_interval' : undefined,
  };
}
