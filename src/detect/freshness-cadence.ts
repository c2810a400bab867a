// Freshness against a learned cadence: how long this asset normally goes between updates at this
// time of the week, and how late it is against that. The static thresholds of freshness.ts stay
// for users who write warn_after/error_after; this is what runs when they write neither.
//
// Rules: gaps between consecutive past updates are grouped by when they started. The gaps that
// started within an hour of the last update's hour of the week are used when there are ≥ 3 of
// them (a weekday feed's Friday gap is 72h, not 24h), else within an hour of its hour of the day
// (a nightly pause), else all gaps. The limit is the 90th percentile of those gaps × 3 (low),
// 2 (medium) or 1.5 (high), and at least that percentile plus two observation intervals (updates
// seen by a sweep every 5 minutes are only known to 5 minutes). Older than the limit → fail;
// beyond 80 % of it → warn. Fewer than 5 gaps → ok, still learning.

import { checkId, type Finding, type FindingStatus } from '../types.ts';
import { formatLocalTime } from './describe-bucket.ts';
import { formatAge } from './format-age.ts';
import { localTime } from './local-time.ts';
import { median, quantile } from './robust-stats.ts';
import { HOUR_MS } from './seasonality.ts';
import type { Sensitivity } from './series.ts';

export const MIN_GAPS = 5;
const MIN_COMPARABLE_GAPS = 3;
const LATENESS_FACTOR: Readonly<Record<Sensitivity, number>> = { low: 3, medium: 2, high: 1.5 };
export const WARN_FRACTION = 0.8;

export interface LearnedFreshnessInput {
  asset: string;
  /** The timestamp column the update times come from; absent when they come from write counters. */
  column?: string;
  lastUpdate: Date | null;
  /** Past times the asset was seen changing, any order (e.g. distinct max-timestamp observations). */
  updateTimes: readonly Date[];
  settings: {
    sensitivity: Sensitivity;
    /** How often updates are observed (the sweep interval): a limit never undercuts 2 of these. */
    resolutionMs?: number;
  };
  now: Date;
  timezone?: string;
}

interface Gap {
  startMs: number;
  ms: number;
}

function gapsBetween(times: readonly number[]): Gap[] {
  const gaps: Gap[] = [];
  for (let i = 1; i < times.length; i++) gaps.push({ startMs: times[i - 1]!, ms: times[i]! - times[i - 1]! });
  return gaps;
}

/** Hours apart on a circle of `size` hours (hour of day: 24, hour of week: 168). */
function circularDistance(a: number, b: number, size: number): number {
  const d = Math.abs(a - b) % size;
  return Math.min(d, size - d);
}

function hourOfWeek(ms: number, timezone?: string): number {
  const t = localTime(new Date(ms), timezone);
  return t.weekday * 24 + t.hour;
}

/** The gaps comparable with one starting at `fromMs`, per the ladder at the top of the file. */
export function comparableGaps(gaps: readonly Gap[], fromMs: number, timezone?: string): { gaps: number[]; basis: string } {
  const slot = hourOfWeek(fromMs, timezone);
  const slots = gaps.map((gap) => hourOfWeek(gap.startMs, timezone));
  const weekly = gaps.filter((_, i) => circularDistance(slots[i]!, slot, 168) <= 1).map((gap) => gap.ms);
  if (weekly.length >= MIN_COMPARABLE_GAPS) return { gaps: weekly, basis: 'hour_of_week' };
  const daily = gaps.filter((_, i) => circularDistance(slots[i]! % 24, slot % 24, 24) <= 1).map((gap) => gap.ms);
  if (daily.length >= MIN_COMPARABLE_GAPS) return { gaps: daily, basis: 'hour_of_day' };
  return { gaps: gaps.map((gap) => gap.ms), basis: 'none' };
}

export function evaluateLearnedFreshness(input: LearnedFreshnessInput): Finding {
  const { asset, column, now, timezone } = input;
  const base = { check: checkId('freshness', asset), kind: 'freshness' as const, asset, ...(column === undefined ? {} : { column }) };
  const nowMs = now.getTime();
  const times = [...new Set([...input.updateTimes, ...(input.lastUpdate ? [input.lastUpdate] : [])].map((t) => t.getTime()))]
    .filter((ms) => ms <= nowMs)
    .sort((a, b) => a - b);
  const lastMs = times.at(-1);
  if (lastMs === undefined) return { ...base, status: 'ok', observed: null, message: `${asset}: no update seen yet; still learning its cadence` };
  const ageMs = nowMs - lastMs;
  const gaps = gapsBetween(times);
  if (gaps.length < MIN_GAPS) {
    const message = `${asset}: updated ${formatAge(ageMs)} ago; still learning its cadence (${gaps.length} of ${MIN_GAPS} gaps between updates seen)`;
    return { ...base, status: 'ok', observed: ageMs / 1000, message };
  }
  const comparable = comparableGaps(gaps, lastMs, timezone).gaps;
  const upper = quantile(comparable, 0.9);
  const limitMs = Math.max(LATENESS_FACTOR[input.settings.sensitivity] * upper, upper + 2 * (input.settings.resolutionMs ?? 0));
  const status: FindingStatus = ageMs > limitMs ? 'fail' : ageMs > WARN_FRACTION * limitMs ? 'warn' : 'ok';
  const due = new Date(lastMs + limitMs);
  const dueText = formatLocalTime(due, timezone, nowMs - due.getTime() >= 20 * HOUR_MS || due.getTime() - nowMs >= 20 * HOUR_MS);
  const usual = `it usually updates every ${formatAge(median(comparable))}`;
  const what = column === undefined ? 'writes' : column;
  const message =
    status === 'ok'
      ? `${asset}: updated ${formatAge(ageMs)} ago; ${usual} (late after ${dueText})`
      : `${asset}: no new ${what} for ${formatAge(ageMs)}; ${usual} (latest expected by ${dueText})`;
  return { ...base, status, observed: ageMs / 1000, expected: { low: 0, high: limitMs / 1000 }, score: Math.round((ageMs / limitMs) * 100) / 100, message };
}
