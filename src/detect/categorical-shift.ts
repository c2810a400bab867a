// Categorical shift between a bucket's top-k value frequencies and the usual ones, as the
// Jensen–Shannon divergence with log base 2. Chosen over PSI because it is symmetric, finite when
// a value is missing on one side (PSI needs smoothing there) and bounded in [0, 1], so thresholds
// read the same for every column: 0 = same shares, 1 = nothing in common.
//
// Top-k lists only say something about the values they hold: rows outside the top-k go in an
// "other" bucket (the OTHER_VALUE entry, e.g. non-null rows − the top-k's sum), and a value
// outside one side's top-k has an unknown share there (see categoricalShift).

import { median, mad } from './robust-stats.ts';
import type { Sensitivity } from './series.ts';

/** Key under which a caller may put the rows outside the top-k (e.g. non-null rows − top-k sum). */
export const OTHER_VALUE = '\u0000other';

/** Fixed floor of the alert threshold per sensitivity: 0.05 ≈ shares moving from 50/50 to 71/29. */
export const SHIFT_THRESHOLDS: Readonly<Record<Sensitivity, number>> = { low: 0.1, medium: 0.05, high: 0.025 };
/** Robust sigmas of the history's own bucket-to-bucket shift added on top (same as baseline.ts). */
const SHIFT_SIGMAS: Readonly<Record<Sensitivity, number>> = { low: 5, medium: 4, high: 3 };

/** Value → count (or share) of rows. */
export type Frequencies = Readonly<Record<string, number>>;

function sumOf(frequencies: Frequencies): number {
  let total = 0;
  for (const value of Object.values(frequencies)) total += value;
  return total;
}

/**
 * Jensen–Shannon divergence (log2, in [0, 1]) of two value frequency maps (counts or shares).
 * A value listed on one side only is compared with a share of 0 when the other side's list is
 * complete (no OTHER_VALUE rows), and folded into its own side's "other" when it is not (its
 * share there is unknown: assuming 0 would cry wolf whenever a value drops just out of the top-k).
 */
export function categoricalShift(current: Frequencies, reference: Frequencies): number {
  const currentTotal = sumOf(current);
  const referenceTotal = sumOf(reference);
  if (currentTotal <= 0 || referenceTotal <= 0) return currentTotal === referenceTotal ? 0 : 1;
  const currentComplete = !((current[OTHER_VALUE] ?? 0) > 0);
  const referenceComplete = !((reference[OTHER_VALUE] ?? 0) > 0);
  let divergence = 0;
  let currentOther = (current[OTHER_VALUE] ?? 0) / currentTotal;
  let referenceOther = (reference[OTHER_VALUE] ?? 0) / referenceTotal;
  for (const value of new Set([...Object.keys(current), ...Object.keys(reference)])) {
    if (value === OTHER_VALUE) continue;
    const p = (current[value] ?? 0) / currentTotal;
    const q = (reference[value] ?? 0) / referenceTotal;
    if (!(value in reference) && !referenceComplete) currentOther += p;
    else if (!(value in current) && !currentComplete) referenceOther += q;
    else divergence += halfTerms(p, q);
  }
  return Math.min(1, Math.max(0, divergence + halfTerms(currentOther, referenceOther)));
}

/** ½·p·log2(p/m) + ½·q·log2(q/m) with m the mean of p and q; 0·log 0 = 0. */
function halfTerms(p: number, q: number): number {
  const m = (p + q) / 2;
  let sum = 0;
  if (p > 0) sum += 0.5 * p * Math.log2(p / m);
  if (q > 0) sum += 0.5 * q * Math.log2(q / m);
  return sum;
}

/** The shares of several buckets averaged: every bucket weighs the same whatever its row count. */
export function averageShares(buckets: readonly Frequencies[]): Record<string, number> {
  const average: Record<string, number> = {};
  for (const bucket of buckets) {
    const total = sumOf(bucket);
    if (total <= 0) continue;
    for (const [value, count] of Object.entries(bucket)) average[value] = (average[value] ?? 0) + count / total / buckets.length;
  }
  return average;
}

export interface ShiftVerdict {
  shift: number;
  /** Above this the shift fails; above 80 % of it, it warns. */
  threshold: number;
  status: 'ok' | 'warn' | 'fail';
}

/**
 * The current bucket's shift from the average of the baseline buckets. The threshold is the larger
 * of the fixed one for the sensitivity and what the baseline's own buckets show (each against the
 * average of the others: median + k·MAD), so a naturally jumpy column does not page.
 * Undefined with fewer than 3 baseline buckets (still learning).
 */
export function judgeShift(current: Frequencies, baseline: readonly Frequencies[], sensitivity: Sensitivity): ShiftVerdict | undefined {
  if (baseline.length < 3) return undefined;
  const usual = baseline.map((bucket, i) => categoricalShift(bucket, averageShares(baseline.filter((_, j) => j !== i))));
  const center = median(usual);
  // The spread is floored at a quarter of the usual shift, as baseline.ts floors it at 5 % of a
  // centre: a column that always moves by the same amount must not fail on exactly that amount.
  const spread = Math.max(mad(usual, center), 0.25 * center);
  const threshold = Math.max(SHIFT_THRESHOLDS[sensitivity], center + SHIFT_SIGMAS[sensitivity] * spread);
  const shift = categoricalShift(current, averageShares(baseline));
  const status = shift > threshold ? 'fail' : shift > 0.8 * threshold ? 'warn' : 'ok';
  return { shift, threshold, status };
}
