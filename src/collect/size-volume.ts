// Volume for tables that are rebuilt on every run (a derived snapshot like
// analytics.top_items_not_carried): rows per time bucket means nothing there, the table's size
// does. The sweep already records each table's catalog row estimate; this check scores the
// newest one against the same robust baseline, one bucket per `volume.bucket` (the last estimate
// in each), with flagged and expected buckets left out like every other volume check.

import type { Config, VolumeConfig } from '../config/schema.ts';
import { baselineSettingsFromVolume, evaluateVolume } from '../detect/volume.ts';
import { formatLocalTime } from '../detect/describe-bucket.ts';
import { formatNumber, formatRange } from '../detect/format-number.ts';
import type { SeriesPoint } from '../detect/series.ts';
import { selectAssetMetric, selectExcludedBuckets } from '../store/observation-series.ts';
import { checkId, type Finding } from '../types.ts';
import type { MonitoredAsset } from './asset-selection.ts';
import type { ProfileContext } from './profile.ts';

export interface SizeCheck {
  asset: string;
  volume: VolumeConfig;
}

/** Monitored assets whose first volume check has no column (the first monitor wins, as elsewhere). */
export function sizeVolumeChecks(assets: readonly MonitoredAsset[]): SizeCheck[] {
  const seen = new Set<string>();
  const checks: SizeCheck[] = [];
  for (const { asset, monitor } of assets) {
    if (monitor.volume === undefined || seen.has(asset)) continue;
    seen.add(asset);
    if (monitor.volume.column === undefined) checks.push({ asset, volume: monitor.volume });
  }
  return checks;
}

export async function evaluateSizeVolume(context: ProfileContext, checks: readonly SizeCheck[], now: Date): Promise<Finding[]> {
  if (checks.length === 0) return [];
  const from = new Date(now.getTime() - context.config.profiling.history);
  const assets = checks.map((check) => check.asset);
  const [estimates, excluded] = await Promise.all([
    selectAssetMetric(context.state, assets, 'row_estimate', from),
    selectExcludedBuckets(context.state, assets.map((asset) => checkId('volume', asset)), from),
  ]);
  return checks.map((check) => {
    const range = { fromMs: from.getTime(), untilMs: now.getTime() };
    const series = bucketed(estimates.get(check.asset) ?? [], check.volume.bucket, excluded.get(checkId('volume', check.asset)), range);
    return sizeFinding(context.config, check, series);
  });
}

export interface BucketRange {
  fromMs: number;
  /** The newest bucket to fill, e.g. the one holding `now`. */
  untilMs: number;
}

/**
 * The estimate in force at the end of each bucket over the range. Estimates are stored when they
 * change, so a bucket without one carries the previous value forward; an estimate is a snapshot,
 * so its bucket is complete when taken.
 */
export function bucketed(
  points: ReadonlyArray<{ bucket: Date; value: number }>,
  bucketMs: number,
  excluded: ReadonlySet<number> | undefined,
  range: BucketRange,
): SeriesPoint[] {
  const align = (ms: number): number => Math.floor(ms / bucketMs) * bucketMs;
  const latest = new Map<number, number>();
  for (const point of points) latest.set(align(point.bucket.getTime()), point.value);
  const series: SeriesPoint[] = [];
  let value: number | undefined;
  for (const [start, pointValue] of latest) if (start < align(range.fromMs)) value = pointValue;
  for (let start = align(range.fromMs); start <= align(range.untilMs); start += bucketMs) {
    value = latest.get(start) ?? value;
    if (value !== undefined) series.push({ bucket: new Date(start), value, ...(excluded?.has(start) ? { excluded: true } : {}) });
  }
  return series;
}

export function sizeFinding(config: Config, check: SizeCheck, series: SeriesPoint[]): Finding {
  const timezone = config.schedule.timezone;
  const last = series.at(-1);
  if (last === undefined) {
    return { check: checkId('volume', check.asset), kind: 'volume', asset: check.asset, status: 'ok', observed: null, message: `${check.asset}: no row estimate recorded yet` };
  }
  const settings = baselineSettingsFromVolume(check.volume, timezone);
  const finding = evaluateVolume({ asset: check.asset, series, settings, now: new Date(last.bucket.getTime() + check.volume.bucket), gauge: true });
  const rows = `${formatNumber(last.value)} rows in the table (catalog estimate)`;
  if (finding.expected === undefined) return { ...finding, message: `${check.asset}: ${rows}; still learning its normal size` };
  const at = formatLocalTime(last.bucket, timezone);
  const expected = formatRange(finding.expected.low ?? 0, finding.expected.high ?? 0, true);
  return { ...finding, message: `${check.asset}: ${rows} at ${at}, expected ${expected}` };
}
