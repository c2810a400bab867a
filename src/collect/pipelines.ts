// The pipelines job: what dbt, Airflow and SQLMesh say about the runs that fill the warehouse,
// as findings for the incident lifecycle. Each tick reads every configured source:
// - dbt targets: the artifacts re-read only when a file changed (mtime + size), then judged every
//   tick (a model that failed in the last run stays failed until a run says otherwise);
// - Airflow metadata databases and SQLMesh state databases: read (read-only) and judged.
// A source that cannot be read is logged and counted, and its assets keep their last findings
// (nothing is resolved by a source going quiet); the other sources are still read.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { insertFindings, selectLatestStatuses } from '../store/sweep-records.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Finding } from '../types.ts';
import { AirflowReader } from './airflow/airflow-reader.ts';
import { collectAirflowFindings } from './airflow/collect-airflow-findings.ts';
import { assetKeyFor } from './dbt/asset-key-for.ts';
import { dbtFreshnessFindings } from './dbt/dbt-freshness-findings.ts';
import type { DbtManifest } from './dbt/dbt-manifest.ts';
import { dbtRunFindings } from './dbt/dbt-run-findings.ts';
import type { DbtTargetConfig } from './dbt/dbt-target-config.ts';
import { readDbtTarget, type DbtTargetRead } from './dbt/read-dbt-target.ts';
import { recordFindingMetrics } from './finding-metrics.ts';
import { worthStoring } from './sweep.ts';
import { collectSqlmeshFindings } from './sqlmesh/collect-sqlmesh.ts';

export interface PipelinesContext {
  config: Config;
  state: pg.Pool;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export type PipelineSourceKind = 'dbt' | 'airflow' | 'sqlmesh';

export interface PipelinesResult {
  findings: Finding[];
  /** Sources read this tick, and those that could not be. */
  sources: number;
  failed: number;
  /** dbt manifests read anew this tick (the lineage follows them). */
  changedManifests: Array<{ target: DbtTargetConfig; manifest: DbtManifest }>;
}

/** True when the config names any pipeline source: the job is scheduled only then. */
export function hasPipelineSources(config: Config): boolean {
  return config.dbt.length + config.airflow.length + config.sqlmesh.length > 0;
}

export class PipelineCollector {
  readonly #context: PipelinesContext;
  readonly #dbtReads = new Map<string, DbtTargetRead>();
  readonly #airflow: AirflowReader[];
  /** Problems already logged, so a broken file is reported when it breaks, not every tick. */
  readonly #reported = new Set<string>();

  constructor(context: PipelinesContext) {
    this.#context = context;
    this.#airflow = context.config.airflow.map((source) => new AirflowReader(source, context.logger));
  }

  async collect(signal: AbortSignal): Promise<PipelinesResult> {
    const now = this.#context.now();
    const result: PipelinesResult = { findings: [], sources: 0, failed: 0, changedManifests: [] };
    const attempt = async (kind: PipelineSourceKind, name: string, read: () => Promise<Finding[]>): Promise<void> => {
      if (signal.aborted) return;
      result.sources += 1;
      try {
        result.findings.push(...(await read()));
        this.#context.metrics.pipelineSourceUp.set({ kind, source: name }, 1);
      } catch (error) {
        result.failed += 1;
        this.#context.metrics.pipelineSourceUp.set({ kind, source: name }, 0);
        this.#context.metrics.collectionErrors.inc({ source: kind });
        this.#context.logger.error({ err: error, [kind]: name }, `could not read ${kind} source ${name}: ${errorMessage(error)}`);
      }
    };
    for (const target of this.#context.config.dbt) await attempt('dbt', target.target, () => this.#dbtFindings(target, now, result));
    for (const reader of this.#airflow) {
      await attempt('airflow', reader.source.name, async () => withOwner((await collectAirflowFindings(reader, now)).findings, reader.source.owner));
    }
    for (const source of this.#context.config.sqlmesh) {
      await attempt('sqlmesh', source.name, async () => {
        const collected = await collectSqlmeshFindings(source, now);
        for (const note of collected.notes) this.#reportOnce(`sqlmesh:${source.name}:${note}`, () => this.#context.logger.warn({ sqlmesh: source.name }, note));
        return withOwner(collected.findings, source.owner);
      });
    }
    await this.#store(result.findings, now);
    recordFindingMetrics(this.#context.metrics, 'pipelines', result.findings);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.#airflow.map((reader) => reader.close()));
  }

  async #dbtFindings(target: DbtTargetConfig, now: Date, result: PipelinesResult): Promise<Finding[]> {
    const previous = this.#dbtReads.get(target.target);
    const read = await readDbtTarget(target.target, previous);
    this.#dbtReads.set(target.target, read);
    for (const warning of read.warnings) this.#context.logger.warn({ dbt: target.target }, warning);
    for (const problem of read.problems) {
      this.#reportOnce(`dbt:${problem.file}:${problem.message}`, () => this.#context.logger.error({ dbt: target.target, file: problem.file }, problem.message));
    }
    if (read.manifest !== null && read.manifest !== previous?.manifest) result.changedManifests.push({ target, manifest: read.manifest });
    const mapping = target.warehouse === undefined ? {} : { warehouse: target.warehouse };
    const findings = [
      ...(read.runResults === null ? [] : dbtRunFindings({ runResults: read.runResults, manifest: read.manifest, mapping, now })),
      ...(read.sources === null ? [] : dbtFreshnessFindings({ sources: read.sources, manifest: read.manifest, mapping, now })),
    ];
    const owners = read.manifest === null ? new Map<string, string>() : nodeOwners(read.manifest, mapping);
    return findings.map((finding) => {
      const owner = owners.get(finding.asset);
      return owner === undefined ? finding : { ...finding, owner };
    });
  }

  /** Stored as the sweep stores its findings (when a check's status changes). */
  async #store(findings: readonly Finding[], at: Date): Promise<void> {
    if (findings.length === 0) return;
    const previous = await selectLatestStatuses(this.#context.state, findings.map((finding) => finding.check));
    await insertFindings(this.#context.state, findings.filter((finding) => worthStoring(finding, previous)), at);
  }

  #reportOnce(key: string, report: () => void): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    report();
  }
}

function withOwner(findings: readonly Finding[], owner: string | undefined): Finding[] {
  return owner === undefined ? [...findings] : findings.map((finding) => ({ ...finding, owner }));
}

/** `meta.owner` (or the group's owner) of each dbt node, by the asset it is. */
function nodeOwners(manifest: DbtManifest, mapping: { warehouse?: string }): Map<string, string> {
  const owners = new Map<string, string>();
  for (const node of manifest.nodes.values()) {
    if (node.owner !== null) owners.set(assetKeyFor(node, mapping), node.owner);
  }
  return owners;
}
