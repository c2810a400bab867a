// How many sigmas wide a band is: the sensitivity's sigmas, shared out over the judgements a day
// holds (perDaySigmas) and widened for a noise fitted on few errors (sigmasForResiduals), and the
// trimmed scale the count noise is fitted with. Pure arithmetic, kept apart from baseline.ts.

import { DAY_MS } from './seasonality.ts';

/** One-sided normal tail P(Z > z) for z ≥ 2 (asymptotic series of Mills' ratio, < 1 % off at 3). */
export function normalTail(z: number): number {
  const density = Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);
  const inverse = 1 / (z * z);
  return (density / z) * (1 - inverse + 3 * inverse ** 2 - 15 * inverse ** 3 + 105 * inverse ** 4);
}

/**
 * The sensitivity's sigmas hold for one judgement a day. A series of shorter buckets is judged
 * many times a day (24 for hours), so each judgement gets the tail a day's judgement has, shared
 * out: P(Z > z') = P(Z > z) · bucket / day. Without it an hourly check pages 24 times as often as
 * a daily one on the same noise (4 σ for a day is 4.7 σ per hour).
 */
export function perDaySigmas(sigmas: number, bucketMs: number): number {
  if (bucketMs >= DAY_MS) return sigmas;
  const target = normalTail(sigmas) * (bucketMs / DAY_MS);
  let low = sigmas;
  let high = sigmas + 4;
  for (let step = 0; step < 50; step++) {
    const mid = (low + high) / 2;
    if (normalTail(mid) > target) low = mid;
    else high = mid;
  }
  return high;
}

/** Share of the largest absolute errors left out of the trimmed scale. */
const TRIM_SHARE = 0.1;
/** √E[Z² | |Z| ≤ z₀.₉₅] for a standard normal: makes the trimmed RMS estimate σ. */
const TRIM_CONSISTENCY = 0.7894;

/** Root mean square of the smallest 90 % of absolute errors, scaled to estimate σ (reorders `errors`). */
export function trimmedScale(errors: Float64Array): number {
  errors.sort();
  const kept = Math.max(1, Math.floor(errors.length * (1 - TRIM_SHARE)));
  let sum = 0;
  for (let i = 0; i < kept; i++) sum += errors[i]! * errors[i]!;
  return Math.sqrt(sum / kept) / TRIM_CONSISTENCY;
}

/**
 * The band's sigmas widened for a noise fitted on few errors: the Student-t quantile with
 * `residuals − 1` degrees of freedom at the normal tail of `sigmas` (Cornish–Fisher expansion).
 */
export function sigmasForResiduals(sigmas: number, residuals: number | undefined): number {
  if (residuals === undefined || residuals < 2) return sigmas;
  const nu = residuals - 1;
  const z = sigmas;
  return z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu * nu);
}
