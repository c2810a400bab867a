// Findings become metrics here. Three jobs judge checks, the sweep, the profile job and the
// pipelines job (both the sweep and the profile job judge volume: the sweep a rebuilt table's
// size, the profile job rows per bucket). Each job's latest findings are kept apart, summarized,
// and every gauge is rebuilt from all jobs' summaries, so neither job's run wipes or doubles the
// other's:
// - pipewarden_findings: counts by kind and status;
// - the per-asset series (freshness, lateness, rows and their expected band, check status,
//   anomaly score): one entry per asset, not per check, so labels stay bounded. Beyond
//   `maxAssetSeries` assets only the worst are kept, and the number left out is a gauge. An asset
//   no job reports any more loses its series at the next rebuild, instead of a stale value forever.

import type { Metrics } from '../telemetry/metrics.ts';
import type { CheckKind, Finding, FindingStatus } from '../types.ts';

export type JudgingJob = 'sweep' | 'profile' | 'pipelines';

/** The kinds whose `error` findings each job reports when its warehouse cannot be read. */
export const PROFILE_KINDS: readonly CheckKind[] = ['volume', 'distribution'];
export const SWEEP_KINDS: readonly CheckKind[] = ['freshness', 'schema', 'run'];

/** The value of pipewarden_check_status (documented in its help text; dashboards map it). */
export const STATUS_VALUES: Readonly<Record<FindingStatus, number>> = { ok: 0, warn: 1, fail: 2, error: 3 };

// Which status is worse, for "worst per asset" and for the cap: a known failure outranks not
// being able to measure, which outranks a warning.
const SEVERITY: Readonly<Record<FindingStatus, number>> = { ok: 0, warn: 1, error: 2, fail: 3 };

type Counts = Map<string, { kind: CheckKind; status: FindingStatus; count: number }>;

/** What the per-asset series show about one asset. */
export interface AssetSeries {
  asset: string;
  /** Worst status per check kind. */
  statuses: Map<CheckKind, FindingStatus>;
  /** Highest score per check kind, for kinds whose findings carry one. */
  scores: Map<CheckKind, number>;
  freshness?: { ageSeconds: number; latenessSeconds?: number };
  rows?: { observed: number; low?: number; high?: number };
}

interface JobSummary {
  counts: Counts;
  assets: Map<string, AssetSeries>;
}

const latestByJob = new WeakMap<Metrics, Map<JudgingJob, JobSummary>>();

export function recordFindingMetrics(metrics: Metrics, job: JudgingJob, findings: readonly Finding[]): void {
  let jobs = latestByJob.get(metrics);
  if (jobs === undefined) latestByJob.set(metrics, (jobs = new Map()));
  jobs.set(job, { counts: countByKindAndStatus(findings), assets: summarizeAssets(findings) });
  // Synchronous from the resets to the last set: a scrape never sees a gauge half rebuilt.
  metrics.findings.reset();
  for (const { counts } of jobs.values()) {
    for (const { kind, status, count } of counts.values()) metrics.findings.inc({ kind, status }, count);
  }
  const { kept, dropped } = worstAssets(mergeAssets([...jobs.values()].map((summary) => summary.assets)), metrics.maxAssetSeries);
  writeAssetSeries(metrics, kept);
  metrics.assetSeriesDropped.set(dropped);
}

function countByKindAndStatus(findings: readonly Finding[]): Counts {
  const counts: Counts = new Map();
  for (const { kind, status } of findings) {
    const key = `${kind}\u0000${status}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { kind, status, count: 1 });
    else entry.count += 1;
  }
  return counts;
}

/** One entry per asset from one job's findings. */
export function summarizeAssets(findings: readonly Finding[]): Map<string, AssetSeries> {
  const assets = new Map<string, AssetSeries>();
  for (const finding of findings) {
    let series = assets.get(finding.asset);
    if (series === undefined) assets.set(finding.asset, (series = { asset: finding.asset, statuses: new Map(), scores: new Map() }));
    addFinding(series, finding);
  }
  return assets;
}

function addFinding(series: AssetSeries, finding: Finding): void {
  const { kind, status, observed, expected, score } = finding;
  const known = series.statuses.get(kind);
  if (known === undefined || SEVERITY[status] > SEVERITY[known]) series.statuses.set(kind, status);
  if (score !== undefined && Number.isFinite(score)) series.scores.set(kind, Math.max(score, series.scores.get(kind) ?? -Infinity));
  if (observed === null || !Number.isFinite(observed)) return;
  if (kind === 'freshness') {
    // Every freshness finding's observed value is the asset's age in seconds (the sweep's and dbt's).
    const high = expected?.high ?? null;
    const lateness = high !== null ? Math.max(0, observed - high) : status === 'ok' ? 0 : undefined;
    series.freshness = mergeFreshness(series.freshness, { ageSeconds: observed, ...(lateness === undefined ? {} : { latenessSeconds: lateness }) });
  } else if (kind === 'volume' && finding.column === undefined && series.rows === undefined) {
    series.rows = { observed, ...(expected?.low == null ? {} : { low: expected.low }), ...(expected?.high == null ? {} : { high: expected.high }) };
  }
}

/** Two measures of one asset's freshness (the sweep's and dbt's): the staler one. */
function mergeFreshness(a: AssetSeries['freshness'], b: AssetSeries['freshness']): AssetSeries['freshness'] {
  if (a === undefined || b === undefined) return a ?? b;
  const lateness = Math.max(a.latenessSeconds ?? -1, b.latenessSeconds ?? -1);
  return { ageSeconds: Math.max(a.ageSeconds, b.ageSeconds), ...(lateness < 0 ? {} : { latenessSeconds: lateness }) };
}

/** One entry per asset across the jobs: worst statuses, highest scores, stalest freshness. */
function mergeAssets(perJob: ReadonlyArray<ReadonlyMap<string, AssetSeries>>): AssetSeries[] {
  const merged = new Map<string, AssetSeries>();
  for (const assets of perJob) {
    for (const series of assets.values()) {
      const into = merged.get(series.asset);
      if (into === undefined) {
        merged.set(series.asset, { ...series, statuses: new Map(series.statuses), scores: new Map(series.scores) });
        continue;
      }
      for (const [kind, status] of series.statuses) {
        const known = into.statuses.get(kind);
        if (known === undefined || SEVERITY[status] > SEVERITY[known]) into.statuses.set(kind, status);
      }
      for (const [kind, score] of series.scores) into.scores.set(kind, Math.max(score, into.scores.get(kind) ?? -Infinity));
      const freshness = mergeFreshness(into.freshness, series.freshness);
      if (freshness !== undefined) into.freshness = freshness;
      into.rows ??= series.rows;
    }
  }
  return [...merged.values()];
}

/** The `limit` worst assets (fail, error, warn, ok; then by score; then by name, for a stable cut) and how many were left out. */
export function worstAssets(assets: readonly AssetSeries[], limit: number): { kept: AssetSeries[]; dropped: number } {
  if (assets.length <= limit) return { kept: [...assets], dropped: 0 };
  const ranked = assets.map((series) => ({ series, severity: worstSeverity(series), score: Math.max(-Infinity, ...series.scores.values()) }));
  ranked.sort((a, b) => b.severity - a.severity || b.score - a.score || (a.series.asset < b.series.asset ? -1 : a.series.asset > b.series.asset ? 1 : 0));
  return { kept: ranked.slice(0, Math.max(0, limit)).map((entry) => entry.series), dropped: assets.length - Math.max(0, limit) };
}

function worstSeverity(series: AssetSeries): number {
  let worst = 0;
  for (const status of series.statuses.values()) worst = Math.max(worst, SEVERITY[status]);
  return worst;
}

function writeAssetSeries(metrics: Metrics, assets: readonly AssetSeries[]): void {
  const gauges = [metrics.assetFreshness, metrics.assetFreshnessLateness, metrics.assetRows, metrics.assetRowsExpectedLow, metrics.assetRowsExpectedHigh];
  for (const gauge of gauges) gauge.reset();
  metrics.checkStatus.reset();
  metrics.anomalyScore.reset();
  for (const { asset, statuses, scores, freshness, rows } of assets) {
    for (const [kind, status] of statuses) metrics.checkStatus.set({ asset, kind }, STATUS_VALUES[status]);
    for (const [kind, score] of scores) metrics.anomalyScore.set({ asset, kind }, score);
    if (freshness !== undefined) {
      metrics.assetFreshness.set({ asset }, freshness.ageSeconds);
      if (freshness.latenessSeconds !== undefined) metrics.assetFreshnessLateness.set({ asset }, freshness.latenessSeconds);
    }
    if (rows !== undefined) {
      metrics.assetRows.set({ asset }, rows.observed);
      if (rows.low !== undefined) metrics.assetRowsExpectedLow.set({ asset }, rows.low);
      if (rows.high !== undefined) metrics.assetRowsExpectedHigh.set({ asset }, rows.high);
    }
  }
}
