// Freshness against static thresholds (dbt's vocabulary: warn_after / error_after). Pure: the
// last update and `now` come in as arguments. Learned cadences build on this in detect/ later.

import { checkId, type Finding, type FindingStatus } from '../types.ts';
import { formatAge } from './format-age.ts';

export interface FreshnessThresholds {
  warnAfterMs?: number;
  errorAfterMs?: number;
}

/** What is known about when an asset last changed. */
export type LastUpdate =
  /** The newest value of a timestamp column. */
  | { source: 'column'; column: string; at: Date | null }
  /** From write counters: `at` is the last sweep that saw them move; null if none has yet. */
  | { source: 'write_counters'; at: Date | null; watchedSince: Date };

export function evaluateFreshness(asset: string, last: LastUpdate, thresholds: FreshnessThresholds, now: Date): Finding {
  const base = { check: checkId('freshness', asset), kind: 'freshness' as const, asset, ...columnOf(last) };
  const expected = expectedRange(thresholds);
  if (last.source === 'column' && last.at === null) {
    const status: FindingStatus = hasThresholds(thresholds) ? 'fail' : 'warn';
    return { ...base, status, observed: null, ...expected, message: `${asset}: no rows with a ${last.column} value` };
  }
  const ageMs = now.getTime() - (last.at ?? (last as { watchedSince: Date }).watchedSince).getTime();
  const status = statusForAge(ageMs, thresholds);
  return { ...base, status, observed: ageMs / 1000, ...expected, message: describe(asset, last, ageMs, thresholds) };
}

function columnOf(last: LastUpdate): { column?: string } {
  return last.source === 'column' ? { column: last.column } : {};
}

function hasThresholds(thresholds: FreshnessThresholds): boolean {
  return thresholds.warnAfterMs !== undefined || thresholds.errorAfterMs !== undefined;
}

function statusForAge(ageMs: number, thresholds: FreshnessThresholds): FindingStatus {
  if (thresholds.errorAfterMs !== undefined && ageMs > thresholds.errorAfterMs) return 'fail';
  if (thresholds.warnAfterMs !== undefined && ageMs > thresholds.warnAfterMs) return 'warn';
  return 'ok';
}

function expectedRange(thresholds: FreshnessThresholds): Pick<Finding, 'expected'> {
  const limit = thresholds.warnAfterMs ?? thresholds.errorAfterMs;
  return limit === undefined ? {} : { expected: { low: 0, high: limit / 1000 } };
}

function describe(asset: string, last: LastUpdate, ageMs: number, thresholds: FreshnessThresholds): string {
  const what =
    last.source === 'column'
      ? `newest ${last.column} is ${formatAge(ageMs)} old`
      : last.at === null
        ? `no writes seen in the ${formatAge(ageMs)} pipewarden has watched it`
        : `last write seen ${formatAge(ageMs)} ago`;
  const limits = [
    thresholds.warnAfterMs === undefined ? null : `warn after ${formatAge(thresholds.warnAfterMs)}`,
    thresholds.errorAfterMs === undefined ? null : `fail after ${formatAge(thresholds.errorAfterMs)}`,
  ].filter((part) => part !== null);
  return `${asset}: ${what}${limits.length > 0 ? ` (${limits.join(', ')})` : ' (no thresholds set)'}`;
}
