// The comparison baseline: Elementary's default anomaly tests, reproduced on the same daily
// observations. For each completed day, a metric's z-score is taken over the last 14 daily
// buckets INCLUDING the day itself (Elementary's training window contains the tested bucket),
// with the sample standard deviation, no seasonality; |z| > 3 is a failure. Schema changes
// (a dropped column, a table that no longer answers) fail at the next daily run, as Elementary's
// schema_changes test and a failing query do.
//
// Note what including the point costs: with n = 14 one outlier can reach at most
// (n − 1)/√n ≈ 3.47, so even an infinitely large deviation barely clears 3.

export const ELEMENTARY_WINDOW_DAYS = 14;
export const ELEMENTARY_THRESHOLD = 3;

/** One table's metrics for one completed day; `null` when the table could not be measured. */
export interface DailyObservation {
  day: Date;
  /** Metric name → value (row_count, null_fraction:amount, share:status=paid, max_gap_hours…). */
  metrics: Record<string, number> | null;
  /** Column names seen that day. */
  columns: string[] | null;
}

export interface BaselineAlert {
  table: string;
  check: string;
  /** When a daily run would have raised it: the end of the day measured. */
  at: Date;
}

/** Elementary's z-score of the last value of `window` (the window includes it). */
export function elementaryZScore(window: readonly number[]): number {
  const n = window.length;
  if (n < 2) return 0;
  const mean = window.reduce((sum, value) => sum + value, 0) / n;
  const variance = window.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  const last = window[n - 1] as number;
  if (sd === 0) return 0;
  return (last - mean) / sd;
}

const DAY_MS = 86_400_000;

/** Alerts the baseline raises on one table's daily observations, oldest first. */
export function evaluateElementary(table: string, days: readonly DailyObservation[], firstScoredDay: Date): BaselineAlert[] {
  const alerts: BaselineAlert[] = [];
  for (let i = 0; i < days.length; i++) {
    const today = days[i] as DailyObservation;
    if (today.day < firstScoredDay) continue;
    const at = new Date(today.day.getTime() + DAY_MS);
    if (today.metrics === null) {
      alerts.push({ table, check: 'schema:table', at });
      continue;
    }
    const yesterday = days[i - 1];
    if (yesterday?.columns && today.columns && yesterday.columns.some((column) => !today.columns?.includes(column))) {
      alerts.push({ table, check: 'schema:columns', at });
    }
    const history = days.slice(Math.max(0, i - ELEMENTARY_WINDOW_DAYS + 1), i + 1);
    for (const metric of Object.keys(today.metrics)) {
      const window = history.map((day) => day.metrics?.[metric]).filter((value): value is number => value !== undefined && Number.isFinite(value));
      // Elementary needs a minimum training set before it scores at all.
      if (window.length < ELEMENTARY_WINDOW_DAYS) continue;
      if (Math.abs(elementaryZScore(window)) > ELEMENTARY_THRESHOLD) alerts.push({ table, check: metric, at });
    }
  }
  return alerts;
}
