// `pipewarden backtest`'s data side: what would have alerted over the last days with the current
// settings, from the state DB alone. Monitors are matched against the sweep's last catalog
// snapshot (table_state), series come from stored observations, and nothing asks the warehouse,
// so a backtest works while it is down. Before the window, baselines leave out what the daemon
// flagged at the time and what people marked expected; inside it, what the replay itself flags
// (backtest-replay.ts) and the expected marks.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { freshnessSettings } from '../config/schema.ts';
import { replayFreshness } from '../detect/freshness-replay.ts';
import type { SeriesPoint } from '../detect/series.ts';
import { selectExpectedBuckets } from '../store/expected-marks.ts';
import { selectAssetMetric, selectExcludedBuckets } from '../store/observation-series.ts';
import { profileKeyString, selectProfileStates } from '../store/profile-state.ts';
import { selectCatalogSnapshot } from '../store/table-catalog.ts';
import { selectUpdateTimes } from '../store/update-history.ts';
import { checkId } from '../types.ts';
import { selectMonitoredAssets, type MonitoredAsset } from './asset-selection.ts';
import { replayPlan, replaySizeVolume, type CheckReplay, type ReplayWindow } from './backtest-replay.ts';
import { CADENCE_HISTORY_MS, usesLearnedCadence } from './freshness-check.ts';
import { profilePlans, type ProfilePlan } from './profile-plans.ts';
import { readPlanSeries } from './profile-series.ts';
import { bucketed, sizeVolumeChecks, type SizeCheck } from './size-volume.ts';

const DAY_MS = 86_400_000;

export interface BacktestOptions {
  /** Only assets matching this glob (the CLI's --select). */
  select?: string;
  days: number;
  now: Date;
}

export interface BacktestResult {
  /** Start of the window: midnight UTC `days` days before today's. */
  from: Date;
  to: Date;
  /** Every replayed check, alerts or not, in config order. */
  checks: CheckReplay[];
}

export async function runBacktest(state: pg.Pool, config: Config, options: BacktestOptions): Promise<BacktestResult> {
  const to = options.now;
  const from = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS - options.days * DAY_MS);
  const monitored: MonitoredAsset[] = [];
  for (const [name, warehouse] of Object.entries(config.warehouses)) {
    const schemas = warehouse.schemas === undefined ? undefined : new Set(warehouse.schemas);
    const tables = (await selectCatalogSnapshot(state, name)).filter((table) => schemas === undefined || schemas.has(table.schema));
    monitored.push(...selectMonitoredAssets(name, tables, config.monitors, options.select).assets);
  }
  const checks = [
    ...(await replayPlans(state, config, profilePlans(monitored), from, to)),
    ...(await replaySizeChecks(state, config, sizeVolumeChecks(monitored), from, to)),
    ...(await replayFreshnessChecks(state, config, monitored, from, to)),
  ];
  return { from, to, checks };
}

/** Points before the window keep their live exclusions; inside it only expected marks stay. */
function keepLiveFlagsBefore(points: readonly SeriesPoint[], fromMs: number, expected: ReadonlySet<number> | undefined): SeriesPoint[] {
  return points.map((point) => {
    const ms = point.bucket.getTime();
    if (ms < fromMs) return point;
    return expected?.has(ms) ? { ...point, excluded: true } : { bucket: point.bucket, value: point.value };
  });
}

function planChecks(plan: ProfilePlan): string[] {
  return [...(plan.volume ? [checkId('volume', plan.asset)] : []), ...plan.distribution.map(({ column }) => checkId('distribution', plan.asset, column))];
}

async function replayPlans(state: pg.Pool, config: Config, plans: readonly ProfilePlan[], from: Date, to: Date): Promise<CheckReplay[]> {
  const historyMs = config.profiling.history;
  const progress = await selectProfileStates(state, [...new Set(plans.map((plan) => plan.asset))]);
  const expected = await selectExpectedBuckets(state, plans.flatMap(planChecks), from);
  const replays: CheckReplay[] = [];
  for (const plan of plans) {
    const stored = progress.get(profileKeyString({ asset: plan.asset, timeColumn: plan.timeColumn, bucketMs: plan.bucketMs }));
    // Never profiled: nothing to replay, but the checks are listed (as never alerting, with 0 buckets).
    const measuredTo = Math.min(Math.floor(to.getTime() / plan.bucketMs) * plan.bucketMs, stored?.measuredThrough.getTime() ?? 0);
    const window: ReplayWindow = { fromMs: from.getTime(), toMs: measuredTo, historyMs };
    const series = await readPlanSeries(state, plan, { firstBucket: stored?.firstBucket ?? null, to: new Date(measuredTo), historyMs: measuredTo - from.getTime() + historyMs });
    const volumeExpected = expected.get(checkId('volume', plan.asset));
    if (series.rows) series.rows = keepLiveFlagsBefore(series.rows, window.fromMs, volumeExpected);
    for (const [column, metrics] of series.columns) {
      const columnExpected = expected.get(checkId('distribution', plan.asset, column));
      for (const [metric, points] of metrics) metrics.set(metric, keepLiveFlagsBefore(points, window.fromMs, columnExpected));
    }
    replays.push(...replayPlan(config, plan, series, window));
  }
  return replays;
}

async function replaySizeChecks(state: pg.Pool, config: Config, checks: readonly SizeCheck[], from: Date, to: Date): Promise<CheckReplay[]> {
  if (checks.length === 0) return [];
  const historyMs = config.profiling.history;
  const since = new Date(from.getTime() - historyMs);
  const ids = checks.map((check) => checkId('volume', check.asset));
  const [estimates, live, expected] = await Promise.all([
    selectAssetMetric(state, checks.map((check) => check.asset), 'row_estimate', since),
    selectExcludedBuckets(state, ids, since),
    selectExpectedBuckets(state, ids, since),
  ]);
  return checks.map((check) => {
    const id = checkId('volume', check.asset);
    const range = { fromMs: since.getTime(), untilMs: to.getTime() };
    const series = keepLiveFlagsBefore(bucketed(estimates.get(check.asset) ?? [], check.volume.bucket, live.get(id), range), from.getTime(), expected.get(id));
    return replaySizeVolume(config, check, series, { fromMs: from.getTime(), toMs: Math.floor(to.getTime() / check.volume.bucket) * check.volume.bucket, historyMs });
  });
}

async function replayFreshnessChecks(state: pg.Pool, config: Config, monitored: readonly MonitoredAsset[], from: Date, to: Date): Promise<CheckReplay[]> {
  // As in the sweep, the first monitor with a freshness check on an asset wins.
  const checks = new Map<string, NonNullable<ReturnType<typeof freshnessSettings>>>();
  for (const { asset, monitor } of monitored) {
    const settings = freshnessSettings(monitor);
    if (settings !== undefined && !checks.has(asset)) checks.set(asset, settings);
  }
  if (checks.size === 0) return [];
  const updateTimes = await selectUpdateTimes(state, [...checks.keys()], new Date(from.getTime() - CADENCE_HISTORY_MS));
  const timezone = config.schedule.timezone;
  return [...checks].map(([asset, settings]) => {
    const thresholds = usesLearnedCadence(settings) ? undefined : { warnAfterMs: settings.warn_after, errorAfterMs: settings.error_after };
    const replay = replayFreshness({
      asset,
      ...(settings.column === undefined ? {} : { column: settings.column }),
      updateTimes: updateTimes.get(asset) ?? [],
      ...(thresholds === undefined ? {} : { thresholds }),
      sensitivity: settings.sensitivity,
      from,
      to,
      historyMs: CADENCE_HISTORY_MS,
      ...(timezone === undefined ? {} : { timezone }),
    });
    const check = checkId('freshness', asset);
    return { check, kind: 'freshness' as const, asset, ...(settings.column === undefined ? {} : { column: settings.column }), buckets: replay.gaps, alerts: replay.alerts };
  });
}
