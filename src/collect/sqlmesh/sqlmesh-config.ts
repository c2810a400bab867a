// The `sqlmesh:` section of pipewarden.yaml: SQLMesh state databases whose models are watched
// for missing or late intervals. Beside the code that reads it; src/config/schema.ts mounts it.

import { z } from 'zod';
import { duration, globList, identifierName, uniqueNames } from '../../config/schema-parts.ts';

export const sqlmeshSourceSchema = z.strictObject({
  name: identifierName.describe('Names this state database in logs and errors.'),
  url: z.string().min(1).describe('PostgreSQL URL of the SQLMesh state database, e.g. `${SQLMESH_STATE_URL}`. Use a read-only role; pipewarden only reads.'),
  schema: z.string().min(1).default('sqlmesh').describe('Schema holding SQLMesh\'s state tables (`_snapshots`, `_intervals`, …): the gateway\'s `state_schema`.'),
  environment: z.string().min(1).default('prod').describe('The SQLMesh environment whose models are watched.'),
  models: globList.optional().describe('Globs over model names (e.g. `sushi.*`) to watch. Default: every model of the environment.'),
  exclude: z.array(z.string()).default([]).describe('Globs over model names left out.'),
  owner: z.string().optional().describe('Owner name from `owners` for these models\' findings.'),
  late_after: duration.prefault('1h').describe('How long after the cron run that should fill the newest interval it may still be missing before it counts as late.'),
  lookback: duration.prefault('7d').describe('How far back missing intervals count.'),
  statement_timeout: duration.prefault('30s').describe('Every read of the state database is cancelled after this long.'),
});

export const sqlmeshSchema = z
  .array(sqlmeshSourceSchema)
  .default([])
  .superRefine(uniqueNames('SQLMesh source'))
  .describe('SQLMesh state databases whose models are checked for missing or late intervals.');

export type SqlmeshSourceConfig = z.output<typeof sqlmeshSourceSchema>;
export type SqlmeshConfig = z.output<typeof sqlmeshSchema>;
