// The config of one dbt target folder pipewarden reads artifacts from. Exported for the config
// schema (src/config/schema.ts) to take in as a list, e.g. `dbt_targets: [{ path, warehouse }]`;
// it lives here so the reader and its settings change together.

import { z } from 'zod';

export const dbtTargetSchema = z.strictObject({
  path: z.string().min(1).describe('The folder dbt writes its artifacts to (usually `<project>/target`): manifest.json, run_results.json, sources.json, catalog.json.'),
  warehouse: z
    .string()
    .min(1)
    .optional()
    .describe('The pipewarden warehouse this dbt project builds into: its models and sources then share assets with that warehouse\'s tables (`warehouse.schema.table`). Without it, dbt findings are keyed by unique_id.'),
});

export type DbtTargetConfig = z.output<typeof dbtTargetSchema>;
