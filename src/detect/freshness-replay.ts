// Freshness replayed over past update times (for `pipewarden backtest`). Each gap between two
// updates — and the one still open at `to` — is judged as a sweep would have judged it at its
// oldest, just before the next update arrived, against what was known when the gap began: the
// update times up to its start (within `historyMs`), or the static thresholds. A gap that would
// have warned or failed is reported at the moment it crossed into that status, so alerts land on
// the day they would have fired. Pure: times and settings in, findings out.

import type { Finding } from '../types.ts';
import { evaluateLearnedFreshness, WARN_FRACTION } from './freshness-cadence.ts';
import { evaluateFreshness, type FreshnessThresholds, type LastUpdate } from './freshness.ts';
import type { Sensitivity } from './series.ts';

export interface FreshnessReplayInput {
  asset: string;
  /** The timestamp column the update times come from; absent when they come from write counters. */
  column?: string;
  /** Past times the asset was seen changing, any order. */
  updateTimes: readonly Date[];
  /** The user's warn_after/error_after; absent (or empty) means the learned cadence. */
  thresholds?: FreshnessThresholds;
  sensitivity: Sensitivity;
  /** Only alerts that would have fired in [from, to) are reported. */
  from: Date;
  to: Date;
  /** How far back the learned cadence looks (the sweep's CADENCE_HISTORY_MS). */
  historyMs: number;
  timezone?: string;
}

export interface FreshnessReplay {
  /** Gaps that reached into the window (what was judged). */
  gaps: number;
  /** Warn/fail findings, `bucket` = when each would have fired. */
  alerts: Finding[];
}

export function replayFreshness(input: FreshnessReplayInput): FreshnessReplay {
  const fromMs = input.from.getTime();
  const toMs = input.to.getTime();
  const times = [...new Set(input.updateTimes.map((time) => time.getTime()))].filter((ms) => ms <= toMs).sort((a, b) => a - b);
  const result: FreshnessReplay = { gaps: 0, alerts: [] };
  let oldest = 0;
  for (let i = 0; i < times.length; i++) {
    const start = times[i]!;
    const next = times[i + 1];
    // A gap that ended before the window cannot have alerted inside it.
    if ((next ?? toMs) <= fromMs) continue;
    result.gaps += 1;
    const at = next === undefined ? toMs : next - 1;
    while (times[oldest]! < at - input.historyMs) oldest += 1;
    const finding = judgeGap(input, times.slice(oldest, i + 1), start, at);
    if (finding.status !== 'warn' && finding.status !== 'fail') continue;
    const firedAt = start + crossingMs(input, finding);
    if (firedAt >= fromMs && firedAt < toMs) result.alerts.push({ ...finding, bucket: new Date(firedAt).toISOString() });
  }
  return result;
}

function hasThresholds(thresholds: FreshnessThresholds | undefined): thresholds is FreshnessThresholds {
  return thresholds?.warnAfterMs !== undefined || thresholds?.errorAfterMs !== undefined;
}

/** The finding a sweep at `at` would have made, the asset last updated at `start`. */
function judgeGap(input: FreshnessReplayInput, known: readonly number[], start: number, at: number): Finding {
  const { asset, column } = input;
  if (hasThresholds(input.thresholds)) {
    const last: LastUpdate =
      column === undefined ? { source: 'write_counters', at: new Date(start), watchedSince: new Date(start) } : { source: 'column', column, at: new Date(start) };
    return evaluateFreshness(asset, last, input.thresholds, new Date(at));
  }
  return evaluateLearnedFreshness({
    asset,
    ...(column === undefined ? {} : { column }),
    lastUpdate: new Date(start),
    updateTimes: known.map((ms) => new Date(ms)),
    settings: { sensitivity: input.sensitivity },
    now: new Date(at),
    ...(input.timezone === undefined ? {} : { timezone: input.timezone }),
  });
}

/** How long after the update a finding's status was reached (its threshold, or its share of the learned limit). */
function crossingMs(input: FreshnessReplayInput, finding: Finding): number {
  if (hasThresholds(input.thresholds)) {
    const { warnAfterMs, errorAfterMs } = input.thresholds;
    return (finding.status === 'fail' ? errorAfterMs : warnAfterMs ?? errorAfterMs) ?? 0;
  }
  const limitMs = (finding.expected?.high ?? 0) * 1000;
  return finding.status === 'fail' ? limitMs : WARN_FRACTION * limitMs;
}
