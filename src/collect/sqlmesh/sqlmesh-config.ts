// The `sqlmesh:` section of pipewarden.yaml: SQLMesh state databases whose models are watched
// for missing or late intervals. Its own file so src/config/schema.ts can import it; for the same
// reason it builds its duration type on duration.ts instead of importing schema.ts (that import
// would be circular once schema.ts imports this file).

import { z } from 'zod';
import { parseDuration } from '../../config/duration.ts';

const durationText = z.string({ error: 'expected a duration like "1h"' }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "1h", got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

const globList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

export const sqlmeshSourceSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a name of letters, digits, "_" or "-"')
    .describe('Names this state database in logs and errors.'),
  url: z.string().min(1).describe('PostgreSQL URL of the SQLMesh state database, e.g. `${SQLMESH_STATE_URL}`. Use a read-only role; pipewarden only reads.'),
  schema: z.string().min(1).default('sqlmesh').describe('Schema holding SQLMesh\'s state tables (`_snapshots`, `_intervals`, …): the gateway\'s `state_schema`.'),
  environment: z.string().min(1).default('prod').describe('The SQLMesh environment whose models are watched.'),
  models: globList.optional().describe('Globs over model names (e.g. `sushi.*`) to watch. Default: every model of the environment.'),
  exclude: z.array(z.string()).default([]).describe('Globs over model names left out.'),
  owner: z.string().optional().describe('Owner name from `owners` for these models\' findings.'),
  late_after: durationText.prefault('1h').describe('How long after the cron run that should fill the newest interval it may still be missing before it counts as late.'),
  lookback: durationText.prefault('7d').describe('How far back missing intervals count.'),
  statement_timeout: durationText.prefault('30s').describe('Every read of the state database is cancelled after this long.'),
});

export const sqlmeshSchema = z
  .array(sqlmeshSourceSchema)
  .default([])
  .superRefine((sources, ctx) => {
    const seen = new Set<string>();
    sources.forEach((source, index) => {
      if (seen.has(source.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `another SQLMesh source is already named "${source.name}"; give each a name of its own` });
      seen.add(source.name);
    });
  })
  .describe('SQLMesh state databases whose models are checked for missing or late intervals.');

export type SqlmeshSourceConfig = z.output<typeof sqlmeshSourceSchema>;
export type SqlmeshConfig = z.output<typeof sqlmeshSchema>;
