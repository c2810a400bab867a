// The pipelines job: what dbt, Airflow and SQLMesh say about the runs that fill the warehouse,
// as findings for the incident lifecycle. Each tick reads every configured source:
// - dbt targets: the artifacts re-read only when a file changed (mtime + size), then judged every
//   tick (a model that failed in the last run stays failed until a run says otherwise); a run read
//   anew leaves each built node's execution time in the observations, judged against its history;
//   a manifest read anew gives the monitors dbt's own configuration derives (source freshness,
//   meta.pipewarden), which the sweep and profile add after the configured ones;
// - Airflow metadata databases and SQLMesh state databases: read (read-only) and judged.
// A source that cannot be read is logged and counted, and its assets keep their last findings
// (nothing is resolved by a source going quiet); the other sources are still read.

import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config, MonitorConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { insertFindings, selectLatestStatuses, upsertObservations } from '../store/sweep-records.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { withSpan } from '../telemetry/tracing.ts';
import type { Finding } from '../types.ts';
import { AirflowReader } from './airflow/airflow-reader.ts';
import { collectAirflowFindings } from './airflow/collect-airflow-findings.ts';
import { assetKeyFor, type DbtAssetMapping } from './dbt/asset-key-for.ts';
import { selectRecentExecutionTimes } from './dbt/dbt-execution-history.ts';
import { executionObservations, executionTimeSettings, judgeExecutionTime, nodeExecutions } from './dbt/dbt-execution-time.ts';
import { dbtFreshnessFindings } from './dbt/dbt-freshness-findings.ts';
import type { DbtManifest } from './dbt/dbt-manifest.ts';
import { deriveDbtMonitors } from './dbt/dbt-monitors.ts';
import { dbtRunFindings } from './dbt/dbt-run-findings.ts';
import type { DbtRunResults } from './dbt/dbt-run-results.ts';
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
  /** Per target: the manifest its monitors and node owners were derived from, and them. */
  readonly #derived = new Map<string, { manifest: DbtManifest; monitors: MonitorConfig[]; owners: Map<string, string> }>();
  /** Per target: the manifest last handed to the lineage (a refresh for the sweep may read it first). */
  readonly #lineageManifests = new Map<string, DbtManifest>();
  /** Per target: the run whose execution times were stored and judged, and the verdicts. */
  readonly #durations = new Map<string, { runResults: DbtRunResults; manifest: DbtManifest | null; findings: Finding[] }>();
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
        result.findings.push(...(await withSpan(`pipelines ${kind}`, { 'pipewarden.source.kind': kind, 'pipewarden.source': name }, () => read())));
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
        const collected = await collectSqlmeshFindings(source, now, this.#context.logger.child({ sqlmesh: source.name }));
        for (const note of collected.notes) this.#reportOnce(`sqlmesh:${source.name}:${note}`, () => this.#context.logger.warn({ sqlmesh: source.name }, note));
        return withOwner(collected.findings, source.owner);
      });
    }
    await this.#store(result.findings, now);
    recordFindingMetrics(this.#context.metrics, 'pipelines', result.findings);
    return result;
  }

  /** The monitors dbt's configuration derives, in the order of the dbt targets; a hand-written monitor comes first. */
  derivedMonitors(): MonitorConfig[] {
    return this.#context.config.dbt.flatMap((target) => this.#derived.get(target.target)?.monitors ?? []);
  }

  /**
   * Re-reads the dbt targets (unchanged files are reused) so the derived monitors follow the
   * manifests even on a replica that does not run the pipelines tick. Never throws: a target that
   * cannot be read keeps the monitors it had.
   */
  async refreshDerivedMonitors(): Promise<MonitorConfig[]> {
    for (const target of this.#context.config.dbt) {
      try {
        await this.#readTarget(target);
      } catch (error) {
        this.#context.logger.warn({ err: error, dbt: target.target }, `could not read dbt target ${target.target} for its monitors: ${errorMessage(error)}`);
      }
    }
    return this.derivedMonitors();
  }

  async close(): Promise<void> {
    await Promise.all(this.#airflow.map((reader) => reader.close()));
  }

  async #dbtFindings(target: DbtTargetConfig, now: Date, result: PipelinesResult): Promise<Finding[]> {
    const read = await this.#readTarget(target);
    if (read.manifest !== null && read.manifest !== this.#lineageManifests.get(target.target)) {
      this.#lineageManifests.set(target.target, read.manifest);
      result.changedManifests.push({ target, manifest: read.manifest });
    }
    const mapping = mappingOf(target);
    const findings = [
      ...(read.runResults === null ? [] : dbtRunFindings({ runResults: read.runResults, manifest: read.manifest, mapping, now })),
      ...(read.sources === null ? [] : dbtFreshnessFindings({ sources: read.sources, manifest: read.manifest, mapping, now })),
      ...(await this.#durationFindings(target, read, now)),
    ];
    const derived = this.#derived.get(target.target);
    const owners = derived !== undefined && derived.manifest === read.manifest ? derived.owners : new Map<string, string>();
    return findings.map((finding) => {
      const owner = owners.get(finding.asset);
      return owner === undefined ? finding : { ...finding, owner };
    });
  }

  async #readTarget(target: DbtTargetConfig): Promise<DbtTargetRead> {
    const read = await readDbtTarget(target.target, this.#dbtReads.get(target.target));
    this.#dbtReads.set(target.target, read);
    for (const warning of read.warnings) this.#context.logger.warn({ dbt: target.target }, warning);
    for (const problem of read.problems) {
      this.#reportOnce(`dbt:${problem.file}:${problem.message}`, () => this.#context.logger.error({ dbt: target.target, file: problem.file }, problem.message));
    }
    if (read.manifest !== null && read.manifest !== this.#derived.get(target.target)?.manifest) {
      const derived = deriveDbtMonitors({ manifest: read.manifest, manifestFile: join(target.target, 'manifest.json'), mapping: mappingOf(target) });
      for (const problem of derived.problems) this.#reportOnce(`dbt:${problem}`, () => this.#context.logger.error({ dbt: target.target }, problem));
      for (const note of derived.notes) this.#reportOnce(`dbt:${note}`, () => this.#context.logger.warn({ dbt: target.target }, note));
      this.#derived.set(target.target, { manifest: read.manifest, monitors: derived.monitors, owners: nodeOwners(read.manifest, mappingOf(target)) });
    }
    return read;
  }

  /**
   * A run read anew leaves its nodes' execution times in the observations (one bucket per run, so
   * re-reading the same run after a restart overwrites, never doubles); each is judged against the
   * node's stored history. The verdicts stand until the next run.
   */
  async #durationFindings(target: DbtTargetConfig, read: DbtTargetRead, now: Date): Promise<Finding[]> {
    if (read.runResults === null) return [];
    const judged = this.#durations.get(target.target);
    if (judged?.runResults === read.runResults && judged.manifest === read.manifest) return judged.findings;
    const executions = nodeExecutions(read.runResults, read.manifest, mappingOf(target));
    const settings = executionTimeSettings(target.duration);
    await upsertObservations(this.#context.state, executionObservations(executions), now);
    const until = executions[0]?.bucket ?? now;
    const history = await selectRecentExecutionTimes(this.#context.state, [...new Set(executions.map((execution) => execution.asset))], until, settings.history + 1);
    const findings = executions.flatMap((execution) => judgeExecutionTime(execution, history.get(execution.asset) ?? [], settings, now) ?? []);
    this.#durations.set(target.target, { runResults: read.runResults, manifest: read.manifest, findings });
    return findings;
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

function mappingOf(target: DbtTargetConfig): DbtAssetMapping {
  return target.warehouse === undefined ? {} : { warehouse: target.warehouse };
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
