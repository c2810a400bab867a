// After the pipelines job read a dbt manifest anew, its lineage replaces the stored graph of that
// dbt target (the origin), before the job's findings reach the incidents: an incident opened in
// the same run already finds its cause and blast radius in the new graph.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { DbtManifest } from '../collect/dbt/dbt-manifest.ts';
import type { DbtTargetConfig } from '../collect/dbt/dbt-target-config.ts';
import { errorMessage } from '../errors.ts';
import { replaceLineage } from '../store/lineage.ts';
import { lineageFromManifest } from './lineage-graph.ts';

export interface ChangedManifest {
  target: DbtTargetConfig;
  manifest: DbtManifest;
}

/** Stores each changed manifest's graph; a failure is logged and the old graph stays (grouping works on it). */
export async function storeManifestLineage(pool: pg.Pool, logger: Logger, changed: readonly ChangedManifest[], now: Date): Promise<void> {
  for (const { target, manifest } of changed) {
    const graph = lineageFromManifest(manifest, target.warehouse === undefined ? {} : { warehouse: target.warehouse }, target.target);
    try {
      await replaceLineage(pool, graph, now);
      logger.info({ dbt: target.target, nodes: graph.nodes.length, edges: graph.edges.length }, `lineage of ${target.target}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
    } catch (error) {
      logger.error({ err: error, dbt: target.target }, `could not store the lineage of ${target.target}: ${errorMessage(error)}`);
    }
  }
}
