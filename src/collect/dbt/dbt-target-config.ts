// The config of one dbt target folder pipewarden reads artifacts from: the `dbt:` list of
// pipewarden.yaml (`dbt: [{ target: ./dbt/target, warehouse: analytics }]`), mounted by
// src/config/schema.ts; it lives here so the reader and its settings change together.

import { z } from 'zod';
import { duration } from '../../config/schema-parts.ts';

export const dbtDurationSchema = z
  .strictObject({
    sensitivity: z
      .enum(['low', 'medium', 'high'])
      .default('medium')
      .describe('How far above its usual execution time a model, seed or snapshot must run to count: `low` alerts least, `high` most.'),
    history: z.number().int().min(3).max(200).default(20).describe('How many earlier successful runs of the node make its usual execution time.'),
    min_history: z.number().int().min(3).max(200).default(5).describe('Fewer earlier runs than this: the execution time is not judged.'),
    min_excess: duration.prefault('60s').describe('A node must run at least this much longer than its median before it counts (steady nodes have almost no spread).'),
  })
  .superRefine((settings, ctx) => {
    if (settings.min_history > settings.history) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_history'],
        message: `min_history (${settings.min_history}) cannot exceed history (${settings.history}): raise history or lower min_history`,
      });
    }
  });

export const dbtTargetSchema = z.strictObject({
  target: z.string().min(1).describe('The folder dbt writes its artifacts to (usually `<project>/target`): manifest.json, run_results.json, sources.json, catalog.json.'),
  warehouse: z
    .string()
    .min(1)
    .optional()
    .describe('The pipewarden warehouse (a name under `warehouses`) this dbt project builds into: its models and sources then share assets with that warehouse\'s tables (`warehouse.schema.table`), and sources with `loaded_at_field` and `freshness` (and nodes with `meta.pipewarden`) become table checks. Without it, dbt findings are keyed by unique_id.'),
  duration: dbtDurationSchema
    .prefault({})
    .describe('Models, seeds and snapshots whose execution time is far above their own recent successful runs (kept in pipewarden\'s observations).'),
});

export const dbtTargetsSchema = z.array(dbtTargetSchema).default([]).describe('dbt projects whose artifacts (manifest, run_results, sources, catalog) pipewarden reads: failed and skipped nodes, failing tests, source freshness, execution time, lineage and blast radius; sources\' freshness and `meta.pipewarden` become monitors.');

export type DbtTargetConfig = z.output<typeof dbtTargetSchema>;
export type DbtDurationConfig = z.output<typeof dbtDurationSchema>;
