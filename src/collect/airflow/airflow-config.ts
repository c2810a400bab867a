// The `airflow:` section of pipewarden.yaml: the Airflow metadata databases pipewarden reads (never
// writes) to judge DAG runs. Kept in its own file so src/config/schema.ts only has to mount it.
// Durations are parsed here with parseDuration rather than schema.ts's `duration`, so schema.ts
// can import this file without an import cycle.

import { z } from 'zod';
import { parseDuration } from '../../config/duration.ts';

const airflowDuration = z
  .string({ error: 'expected a duration like "15m"' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "15m", got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

const dagGlobs = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

export const airflowLongRunSchema = z.strictObject({
  sensitivity: z
    .enum(['low', 'medium', 'high'])
    .default('medium')
    .describe('How far above its usual duration a run must be to count: `low` alerts least, `high` most.'),
  history: z.number().int().min(3).max(200).default(20).describe('How many recent successful runs of the DAG make its usual duration.'),
  min_history: z.number().int().min(3).max(200).default(5).describe('Fewer successful runs than this: the duration is not judged.'),
  min_excess: airflowDuration.prefault('1m').describe('A run must last at least this much longer than its median before it counts (steady DAGs have almost no spread).'),
});

export const airflowSourceSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a name of letters, digits, "_" or "-"')
      .describe('Name of this Airflow in logs and errors.'),
    url: z.string().min(1).describe('PostgreSQL URL of the Airflow metadata database, e.g. `${AIRFLOW_DB_URL}`. Only read; use a read-only role.'),
    schema: z.string().min(1).optional().describe('Schema holding Airflow\'s tables (Airflow\'s `sql_alchemy_schema`). Default: the connection\'s current schema.'),
    dags: dagGlobs.default(['*']).describe('DAG id globs to watch. Default: every DAG.'),
    exclude: z.array(z.string()).default([]).describe('DAG id globs removed from `dags`.'),
    owner: z.string().optional().describe('Owner name from `owners` for these DAGs (assets `airflow:<dag_id>`).'),
    lookback: airflowDuration.prefault('1d').describe('Only runs that started, ended or were running this recently are judged.'),
    long_run: airflowLongRunSchema.prefault({}).describe('Runs much longer than the DAG\'s own recent successful runs.'),
    not_started_after: airflowDuration
      .prefault('15m')
      .describe('A run queued this long without starting, or a scheduled run not created this long after it was due, is reported.'),
    statement_timeout: airflowDuration.prefault('30s').describe('Every statement is cancelled after this long.'),
    connect_timeout: airflowDuration.prefault('10s').describe('Give up connecting after this long.'),
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
  .superRefine((sources, ctx) => {
    const seen = new Set<string>();
    sources.forEach((source, index) => {
      if (seen.has(source.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `another Airflow source is already named "${source.name}": names must be unique` });
      }
      seen.add(source.name);
    });
  })
  .describe('Airflow metadata databases (Airflow 2 or 3, PostgreSQL) whose DAG runs are judged.');

export type AirflowSourceConfig = z.output<typeof airflowSourceSchema>;
export type AirflowLongRunConfig = z.output<typeof airflowLongRunSchema>;
