// Is a dbt model, seed or snapshot running far longer than it usually does? The same robust band
// as an Airflow DAG's duration (src/collect/airflow/airflow-long-run.ts): centre the median of the
// node's previous successful runs, spread MAD × 1.4826 floored at 5 % of the median (a node that
// always takes exactly 40 s still wiggles); a run counts when it is above median + k·spread and at
// least `min_excess` above the median. A long run warns: the data is late, not wrong.
// Pure: the run's results and the stored history in, observations and findings out.

import { BAND_SIGMAS } from '../../detect/baseline.ts';
import { formatAge } from '../../detect/format-age.ts';
import { mad, median } from '../../detect/robust-stats.ts';
import { checkId, type Finding, type Observation } from '../../types.ts';
import { assetKeyFor, type DbtAssetMapping } from './asset-key-for.ts';
import { EXECUTION_METRIC, type ExecutionTimeRow } from './dbt-execution-history.ts';
import type { DbtManifest } from './dbt-manifest.ts';
import { resourceTypeOf, runStamp } from './dbt-message-parts.ts';
import type { DbtRunResults } from './dbt-run-results.ts';
import type { DbtDurationConfig } from './dbt-target-config.ts';

const BUILT_TYPES = new Set(['model', 'seed', 'snapshot']);
const SPREAD_FLOOR = 0.05;

export interface ExecutionTimeSettings {
  /** Robust sigmas above the median a run may last. */
  sigmas: number;
  /** How many earlier runs make the usual execution time. */
  history: number;
  /** Fewer earlier runs than this: no judgement. */
  minHistory: number;
  /** A run must exceed its median by at least this many seconds to count. */
  minExcessSeconds: number;
}

export function executionTimeSettings(config: DbtDurationConfig): ExecutionTimeSettings {
  return { sigmas: BAND_SIGMAS[config.sensitivity], history: config.history, minHistory: config.min_history, minExcessSeconds: config.min_excess / 1000 };
}

/** One successful build of a node in one invocation. */
export interface NodeExecution {
  asset: string;
  uniqueId: string;
  resourceType: string;
  seconds: number;
  /** The invocation's generated_at: one bucket per run. */
  bucket: Date;
}

/**
 * The successful model, seed and snapshot builds of a run with their execution time; empty when
 * the run's generated_at does not parse (there is no bucket to file them under).
 */
export function nodeExecutions(runResults: DbtRunResults, manifest: DbtManifest | null, mapping: DbtAssetMapping): NodeExecution[] {
  const time = Date.parse(runResults.generatedAt);
  if (Number.isNaN(time)) return [];
  const executions: NodeExecution[] = [];
  for (const result of runResults.results) {
    const node = manifest?.nodes.get(result.uniqueId) ?? null;
    const resourceType = node?.resourceType ?? resourceTypeOf(result.uniqueId);
    // A failed or skipped build's time says how soon it stopped, not how long the work takes.
    if (!BUILT_TYPES.has(resourceType) || result.status !== 'success') continue;
    if (result.executionTime === null || !Number.isFinite(result.executionTime) || result.executionTime < 0) continue;
    const asset = node ? assetKeyFor(node, mapping) : result.uniqueId;
    executions.push({ asset, uniqueId: result.uniqueId, resourceType, seconds: result.executionTime, bucket: new Date(time) });
  }
  return executions;
}

export function executionObservations(executions: readonly NodeExecution[]): Observation[] {
  return executions.map((execution) => ({ asset: execution.asset, metric: EXECUTION_METRIC, column: '', bucket: execution.bucket, value: execution.seconds }));
}

/**
 * `history`: the node's stored execution times up to and including this run, newest first. The
 * run itself is left out of its baseline so a long run never vouches for itself. Undefined when
 * there are fewer than `minHistory` earlier runs.
 */
export function judgeExecutionTime(
  execution: NodeExecution,
  history: readonly ExecutionTimeRow[],
  settings: ExecutionTimeSettings,
  now: Date,
): Finding | undefined {
  const past = history.filter((row) => row.bucket.getTime() < execution.bucket.getTime()).slice(0, settings.history);
  if (past.length < settings.minHistory) return undefined;
  const seconds = past.map((row) => row.value);
  const centre = median(seconds);
  const spread = Math.max(mad(seconds, centre), SPREAD_FLOOR * centre);
  const high = centre + Math.max(settings.sigmas * spread, settings.minExcessSeconds);
  const observed = execution.seconds;
  const subject = execution.asset === execution.uniqueId ? `dbt ${execution.resourceType}` : `dbt ${execution.resourceType} ${execution.uniqueId}`;
  const usual = `usually ${formatAge(centre * 1000)}, at most ${formatAge(high * 1000)} over its last ${past.length} successful runs`;
  return {
    check: checkId('run', execution.asset, 'duration'),
    kind: 'run',
    asset: execution.asset,
    status: observed > high ? 'warn' : 'ok',
    observed,
    expected: { low: null, high },
    // In the band's own sigmas: `sigmas` exactly at the limit.
    score: ((observed - centre) / (high - centre)) * settings.sigmas,
    bucket: execution.bucket.toISOString(),
    message: `${execution.asset}: ${subject} ran for ${formatAge(observed * 1000)} (${usual}) ${runStamp('run', execution.bucket.toISOString(), now)}`,
  };
}
