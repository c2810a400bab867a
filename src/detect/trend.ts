// Trend for volume: tables grow or shrink (a shop gaining customers, a feed being retired), and a
// median over a month of history lags a table growing 1 %/day by ~15 %: enough to page on an
// ordinary busy day and to hide a real drop. The growth is fitted on one point per day and each
// past point is then scaled to the level of the bucket under test before the seasonal median.
//
// Decision rules:
// - Growth: a Theil–Sen slope of log(rows) per day, taken only over pairs of days a whole number of
//   weeks apart (so a weekly pattern cannot pass for a trend) — the median of their per-day log
//   ratios. A median of many pairs is what keeps a past incident from bending it: a two-day drop
//   touches a few pairs out of dozens (a line through two weeks' medians does not survive that).
//   Excluded and empty days take no part; fewer than MIN_PAIRS pairs → no trend.
// - Use: the caller keeps the trend only when it predicts the history better (see volume.ts): a
//   step change (a table that doubled once) fits a slope too, and extrapolating it would be wrong.

import { medianInPlace } from './robust-stats.ts';
import { DAY_MS } from './seasonality.ts';
import type { SeriesPoint } from './series.ts';

/** Pairs of days a whole number of weeks apart needed before a growth rate is trusted (two weeks of days). */
export const MIN_PAIRS = 14;
/** No table is taken to grow or shrink faster than this (log per day, ≈ ±10 %/day). */
const MAX_GROWTH = 0.1;
const WEEK_DAYS = 7;

/**
 * Log-growth per day of a series of daily values (one per day, oldest first; gaps allowed),
 * from pairs a whole number of weeks apart; undefined with too few pairs.
 */
export function fitDailyGrowth(days: readonly SeriesPoint[]): number | undefined {
  const usable = days.filter((point) => point.value > 0);
  const slopes: number[] = [];
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const apart = Math.round((usable[j]!.bucket.getTime() - usable[i]!.bucket.getTime()) / DAY_MS);
      if (apart === 0 || apart % WEEK_DAYS !== 0) continue;
      slopes.push(Math.log(usable[j]!.value / usable[i]!.value) / apart);
    }
  }
  if (slopes.length < MIN_PAIRS) return undefined;
  const growth = medianInPlace(Float64Array.from(slopes), slopes.length);
  return Math.max(-MAX_GROWTH, Math.min(MAX_GROWTH, growth));
}

/** The points scaled to the level at `atMs` under a log-growth per day (the point at `atMs` is unchanged). */
export function detrend(points: readonly SeriesPoint[], growthPerDay: number, atMs: number): SeriesPoint[] {
  if (growthPerDay === 0) return [...points];
  return points.map((point) => ({ ...point, value: point.value * Math.exp((growthPerDay * (atMs - point.bucket.getTime())) / DAY_MS) }));
}
