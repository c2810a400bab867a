// Seasonality: which past buckets a bucket is compared with. A seasonal key names a bucket's slot
// (its hour of the day, day of the week, or hour of the week, read in the check's time zone);
// comparable buckets share the key. `auto` picks the grouping that predicts the history best.

import { localHour, localWeekday } from './local-time.ts';
import { median } from './robust-stats.ts';
import type { Seasonality, SeriesPoint } from './series.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A group needs this many points before its median means anything. */
export const MIN_POINTS_PER_GROUP = 3;

/**
 * A finer grouping is chosen only when its leave-one-out prediction error is at most this share
 * of the coarser one's: "clearly better", not better by noise. The finer grouping always spends
 * more history per prediction, so a tie goes to the coarser one.
 */
const CLEARLY_BETTER = 0.8;

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * The instant a bucket's slot is read at: its start, except for buckets of a day or more, read at
 * their middle so that UTC-midnight days keep their weekday in a zone a few hours off UTC.
 */
export function slotInstant(bucketStartMs: number, bucketMs: number): number {
  return bucketMs >= DAY_MS ? bucketStartMs + bucketMs / 2 : bucketStartMs;
}

/** The slot of a bucket: 0 for none, hour 0–23, weekday 0–6 (Sunday 0), or weekday·24 + hour. */
export function seasonalKey(bucketStartMs: number, seasonality: Seasonality, timezone?: string, bucketMs = HOUR_MS): number {
  if (seasonality === 'none') return 0;
  const at = slotInstant(bucketStartMs, bucketMs);
  if (seasonality === 'hour_of_day') return localHour(at, timezone);
  if (seasonality === 'day_of_week') return localWeekday(at, timezone);
  return localWeekday(at, timezone) * 24 + localHour(at, timezone);
}

/** The slot in words for messages: "for a Tuesday 13:00", "for a Tuesday", "for 13:00", or "". */
export function describeSlot(bucket: Date, seasonality: Seasonality, timezone?: string, bucketMs = HOUR_MS): string {
  if (seasonality === 'none') return '';
  const at = slotInstant(bucket.getTime(), bucketMs);
  const hour = `${String(localHour(at, timezone)).padStart(2, '0')}:00`;
  const weekday = WEEKDAYS[localWeekday(at, timezone)];
  if (seasonality === 'hour_of_day') return `for ${hour}`;
  if (seasonality === 'day_of_week') return `for a ${weekday}`;
  return `for a ${weekday} ${hour}`;
}

/** The coarser grouping to fall back on when a slot has too few points. */
export function coarserSeasonality(seasonality: Seasonality, bucketMs: number): Seasonality | undefined {
  if (seasonality === 'hour_of_week') return bucketMs < DAY_MS ? 'hour_of_day' : 'day_of_week';
  if (seasonality === 'none') return undefined;
  return 'none';
}

/** Groupings that make sense for a bucket size, coarse to fine after `none`. */
function candidatesFor(bucketMs: number): { level1: Seasonality[]; level2: Seasonality[] } {
  if (bucketMs >= 7 * DAY_MS) return { level1: [], level2: [] };
  if (bucketMs >= DAY_MS) return { level1: ['day_of_week'], level2: [] };
  return { level1: ['hour_of_day', 'day_of_week'], level2: ['hour_of_week'] };
}

/**
 * For `auto`: the grouping whose slots explain the history best. A grouping is scored by its
 * leave-one-out prediction error — |value − median of the other points in its slot|, the very
 * thing the baseline does — summarised per slot of the finer grouping being compared (median
 * error within a slot, averaged over slots), so a slot that is different on its own (quiet
 * Sundays: one day in seven) counts as much as the others instead of being outvoted. A finer
 * grouping wins only when clearly better, and needs ≥ 3 points in every slot it has seen.
 * Deterministic; excluded points are ignored.
 */
export function chooseSeasonality(history: readonly SeriesPoint[], bucketMs: number, timezone?: string): Seasonality {
  const points = history.filter((point) => !point.excluded && Number.isFinite(point.value));
  const keysOf = (seasonality: Seasonality): Int32Array =>
    Int32Array.from(points, (point) => seasonalKey(point.bucket.getTime(), seasonality, timezone, bucketMs));
  const errorsOf = new Map<Seasonality, Float64Array | undefined>();
  const errors = (seasonality: Seasonality): Float64Array | undefined => {
    if (!errorsOf.has(seasonality)) errorsOf.set(seasonality, leaveOneOutErrors(points, keysOf(seasonality)));
    return errorsOf.get(seasonality);
  };
  if (errors('none') === undefined) return 'none';
  const { level1, level2 } = candidatesFor(bucketMs);
  let best: Seasonality = 'none';
  let bestRatio = CLEARLY_BETTER;
  for (const candidate of level1) {
    const ratio = improvement(errors('none')!, errors(candidate), keysOf(candidate));
    if (ratio !== undefined && ratio <= bestRatio) [best, bestRatio] = [candidate, ratio];
  }
  for (const candidate of level2) {
    const ratio = improvement(errors(best)!, errors(candidate), keysOf(candidate));
    if (ratio !== undefined && ratio <= CLEARLY_BETTER) best = candidate;
  }
  return best;
}

/** Finer error / coarser error, both summarised over the finer grouping's slots. */
function improvement(coarser: Float64Array, finer: Float64Array | undefined, slots: Int32Array): number | undefined {
  if (finer === undefined) return undefined;
  const before = slotAveragedError(coarser, slots);
  return before === 0 ? undefined : slotAveragedError(finer, slots) / before;
}

function slotAveragedError(errors: Float64Array, slots: Int32Array): number {
  const bySlot = new Map<number, number[]>();
  for (let i = 0; i < errors.length; i++) {
    const list = bySlot.get(slots[i]!);
    if (list === undefined) bySlot.set(slots[i]!, [errors[i]!]);
    else list.push(errors[i]!);
  }
  let sum = 0;
  for (const list of bySlot.values()) sum += median(list);
  return sum / bySlot.size;
}

/** Per point: |value − median of the other points sharing its key|; undefined if a slot is thin. */
function leaveOneOutErrors(points: readonly SeriesPoint[], keys: Int32Array): Float64Array | undefined {
  const members = new Map<number, number[]>();
  for (let i = 0; i < points.length; i++) {
    const list = members.get(keys[i]!);
    if (list === undefined) members.set(keys[i]!, [i]);
    else list.push(i);
  }
  if (members.size === 0) return undefined;
  const errors = new Float64Array(points.length);
  for (const indices of members.values()) {
    if (indices.length < MIN_POINTS_PER_GROUP) return undefined;
    // Sorting once makes each leave-one-out median O(1).
    indices.sort((a, b) => points[a]!.value - points[b]!.value || a - b);
    const sorted = Float64Array.from(indices, (i) => points[i]!.value);
    indices.forEach((pointIndex, rank) => {
      errors[pointIndex] = Math.abs(sorted[rank]! - medianWithout(sorted, rank));
    });
  }
  return errors;
}

/** Median of a sorted array with the element at `rank` left out. */
export function medianWithout(sorted: Float64Array, rank: number): number {
  const n = sorted.length - 1;
  if (n <= 0) return Number.NaN;
  const at = (k: number): number => sorted[k < rank ? k : k + 1]!;
  const upper = n >>> 1;
  return n % 2 === 1 ? at(upper) : (at(upper - 1) + at(upper)) / 2;
}
