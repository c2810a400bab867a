// The `airflow:` section of pipewarden.yaml: the Airflow metadata databases pipewarden reads (never
// writes) to judge DAG runs. Kept in its own file so src/config/schema.ts only has to mount it.

import { z } from 'zod';
import { duration, globList, identifierName, uniqueNames } from '../../config/schema-parts.ts';

export const airflowLongRunSchema = z.strictObject({
  sensitivity: z
    .enum(['low', 'medium', 'high'])
    .default('medium')
    .describe('How far above its usual duration a run must be to count: `low` alerts least, `high` most.'),
  history: z.number().int().min(3).max(200).default(20).describe('How many recent successful runs of the DAG make its usual duration.'),
  min_history: z.number().int().min(3).max(200).default(5).describe('Fewer successful runs than this: the duration is not judged.'),
  min_excess: duration.prefault('1m').describe('A run must last at least this much longer than its median before it counts (steady DAGs have almost no spread).'),
});

export const airflowSourceSchema = z
  .strictObject({
    name: identifierName.describe('Name of this Airflow in logs and errors.'),
    url: z.string().min(1).describe('PostgreSQL URL of the Airflow metadata database, e.g. `${AIRFLOW_DB_URL}`. Only read; use a read-only role.'),
    schema: z.string().min(1).optional().describe('Schema holding Airflow\'s tables (Airflow\'s `sql_alchemy_schema`). Default: the connection\'s current schema.'),
    dags: globList.default(['*']).describe('DAG id globs to watch. Default: every DAG.'),
    exclude: z.array(z.string()).default([]).describe('DAG id globs removed from `dags`.'),
    owner: z.string().optional().describe('Owner name from `owners` for these DAGs (assets `airflow:<dag_id>`).'),
    lookback: duration.prefault('1d').describe('Only runs that started, ended or were running this recently are judged.'),
    long_run: airflowLongRunSchema.prefault({}).describe('Runs much longer than the DAG\'s own recent successful runs.'),
    not_started_after: duration
      .prefault('15m')
      .describe('A run queued this long without starting, or a scheduled run not created this long after it was due, is reported.'),
    statement_timeout: duration.prefault('30s').describe('Every statement is cancelled after this long.'),
    connect_timeout: duration.prefault('10s').describe('Give up connecting after this long.'),
  })
  .superRefine((source, ctx) => {
    if (source.long_run.min_history > source.long_run.history) {
      ctx.addIssue({
        code: 'custom',
        path: ['long_run', 'min_history'],
        message: `min_history (${source.long_run.min_history}) cannot exceed history (${source.long_run.history}): raise history or lower min_history`,
      });
    }
  });

export const airflowSchema = z
  .array(airflowSourceSchema)
  .default([])
  .superRefine(uniqueNames('Airflow source'))
  .describe('Airflow metadata databases (Airflow 2 or 3, PostgreSQL) whose DAG runs are judged.');

export type AirflowSourceConfig = z.output<typeof airflowSourceSchema>;
export type AirflowLongRunConfig = z.output<typeof airflowLongRunSchema>;
