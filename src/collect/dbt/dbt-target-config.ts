// The config of one dbt target folder pipewarden reads artifacts from: the `dbt:` list of
// pipewarden.yaml (`dbt: [{ target: ./dbt/target, warehouse: analytics }]`), mounted by
// src/config/schema.ts; it lives here so the reader and its settings change together.

import { z } from 'zod';

export const dbtTargetSchema = z.strictObject({
  target: z.string().min(1).describe('The folder dbt writes its artifacts to (usually `<project>/target`): manifest.json, run_results.json, sources.json, catalog.json.'),
  warehouse: z
    .string()
    .min(1)
    .optional()
    .describe('The pipewarden warehouse (a name under `warehouses`) this dbt project builds into: its models and sources then share assets with that warehouse\'s tables (`warehouse.schema.table`). Without it, dbt findings are keyed by unique_id.'),
});

export const dbtTargetsSchema = z.array(dbtTargetSchema).default([]).describe('dbt projects whose artifacts (manifest, run_results, sources, catalog) pipewarden reads: failed and skipped nodes, failing tests, source freshness, lineage and blast radius.');

export type DbtTargetConfig = z.output<typeof dbtTargetSchema>;
