// Seasonality: which past buckets a bucket is compared with. A seasonal key names a bucket's slot
// (its hour of the day, day of the week, or hour of the week, read in the check's time zone);
// comparable buckets share the key. `auto` picks the grouping that predicts the history best.

import { localHour, localWeekday, offsetMs } from './local-time.ts';
import { medianInPlace } from './robust-stats.ts';
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
  // One offset lookup per key: hour and weekday are arithmetic on the wall-clock milliseconds.
  const wall = at + offsetMs(at, timezone);
  const days = Math.floor(wall / DAY_MS);
  const hour = Math.floor(wall / HOUR_MS) - days * 24;
  if (seasonality === 'hour_of_day') return hour;
  const weekday = (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  return seasonality === 'day_of_week' ? weekday : weekday * 24 + hour;
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
 * grouping wins only when clearly better, compared over the slots where both have ≥ 3 points
 * (at least half the finer grouping's slots).
 * Deterministic; excluded points are ignored.
 */
export function chooseSeasonality(history: readonly SeriesPoint[], bucketMs: number, timezone?: string): Seasonality {
  // Each point's hour and weekday are read once (Intl, even cached, is the expensive part); every
  // grouping's keys are arithmetic on them. Plain loops: this runs once per check per profile.
  const values = new Float64Array(history.length);
  const hours = new Int32Array(history.length);
  const weekdays = new Int32Array(history.length);
  let n = 0;
  for (const point of history) {
    if (point.excluded || !Number.isFinite(point.value)) continue;
    const at = slotInstant(point.bucket.getTime(), bucketMs);
    values[n] = point.value;
    hours[n] = localHour(at, timezone);
    weekdays[n++] = localWeekday(at, timezone);
  }
  return chooseFromSlots(values.subarray(0, n), hours.subarray(0, n), weekdays.subarray(0, n), bucketMs);
}

function chooseFromSlots(values: Float64Array, hours: Int32Array, weekdays: Int32Array, bucketMs: number): Seasonality {
  const keysOf = new Map<Seasonality, Keys>();
  const keys = (seasonality: Seasonality): Keys => {
    if (!keysOf.has(seasonality)) keysOf.set(seasonality, groupKeys(seasonality, hours, weekdays));
    return keysOf.get(seasonality)!;
  };
  const errorsOf = new Map<Seasonality, Float64Array | undefined>();
  const errors = (seasonality: Seasonality): Float64Array | undefined => {
    if (!errorsOf.has(seasonality)) errorsOf.set(seasonality, leaveOneOutErrors(values, keys(seasonality)));
    return errorsOf.get(seasonality);
  };
  if (errors('none') === undefined) return 'none';
  const { level1, level2 } = candidatesFor(bucketMs);
  let best: Seasonality = 'none';
  let bestRatio = CLEARLY_BETTER;
  for (const candidate of level1) {
    const ratio = improvement(errors('none')!, errors(candidate), keys(candidate));
    if (ratio !== undefined && ratio <= bestRatio) [best, bestRatio] = [candidate, ratio];
  }
  for (const candidate of level2) {
    const ratio = improvement(errors(best)!, errors(candidate), keys(candidate));
    if (ratio !== undefined && ratio <= CLEARLY_BETTER) best = candidate;
  }
  return best;
}

/** Each point's slot under one grouping, and how many slots the grouping has. */
interface Keys {
  of: Int32Array;
  count: number;
}

function groupKeys(seasonality: Seasonality, hours: Int32Array, weekdays: Int32Array): Keys {
  const n = hours.length;
  if (seasonality === 'none') return { of: new Int32Array(n), count: 1 };
  if (seasonality === 'hour_of_day') return { of: hours, count: 24 };
  if (seasonality === 'day_of_week') return { of: weekdays, count: 7 };
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) of[i] = weekdays[i]! * 24 + hours[i]!;
  return { of, count: 168 };
}

/**
 * `values` rearranged so each slot's values are contiguous (a counting sort by slot), with the
 * start of every slot: slot k holds arranged[starts[k] .. starts[k + 1]).
 */
function arrangeBySlot(values: Float64Array, keys: Keys): { arranged: Float64Array; starts: Int32Array } {
  const starts = new Int32Array(keys.count + 1);
  for (const key of keys.of) starts[key + 1]! += 1;
  for (let k = 0; k < keys.count; k++) starts[k + 1]! += starts[k]!;
  const cursor = starts.slice(0, keys.count);
  const arranged = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) arranged[cursor[keys.of[i]!]!++] = values[i]!;
  return { arranged, starts };
}

/**
 * Finer error / coarser error, both summarised over the finer grouping's slots that have enough
 * points under both groupings (a slot thinned by excluded points is left out of the comparison
 * rather than vetoing the grouping); undefined when fewer than half the slots seen can be compared.
 */
function improvement(coarser: Float64Array, finer: Float64Array | undefined, slots: Keys): number | undefined {
  if (finer === undefined) return undefined;
  const coarse = arrangeBySlot(coarser, slots);
  const fine = arrangeBySlot(finer, slots);
  let before = 0;
  let after = 0;
  let used = 0;
  let seen = 0;
  for (let k = 0; k < slots.count; k++) {
    const from = fine.starts[k]!;
    const to = fine.starts[k + 1]!;
    if (to === from) continue;
    seen++;
    const a = coarse.arranged.subarray(from, to);
    const b = fine.arranged.subarray(from, to);
    if (!a.every(Number.isFinite) || !b.every(Number.isFinite)) continue;
    before += medianInPlace(a, to - from);
    after += medianInPlace(b, to - from);
    used++;
  }
  if (used === 0 || used * 2 < seen || before === 0) return undefined;
  return after / before;
}

/** Per point: |value − median of the other points in its slot|, NaN in a thin slot; undefined if every slot is thin. */
function leaveOneOutErrors(values: Float64Array, keys: Keys): Float64Array | undefined {
  if (values.length === 0) return undefined;
  const { arranged, starts } = arrangeBySlot(values, keys);
  let usable = false;
  for (let k = 0; k < keys.count; k++) {
    const size = starts[k + 1]! - starts[k]!;
    if (size >= MIN_POINTS_PER_GROUP) usable = true;
    // Sorting each slot once makes every leave-one-out median O(log n): find the rank, skip it.
    if (size > 1) arranged.subarray(starts[k]!, starts[k + 1]!).sort();
  }
  if (!usable) return undefined;
  const errors = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const key = keys.of[i]!;
    const from = starts[key]!;
    const to = starts[key + 1]!;
    errors[i] = to - from < MIN_POINTS_PER_GROUP ? Number.NaN : Math.abs(values[i]! - medianWithout(arranged, rankOf(arranged, from, to, values[i]!), from, to));
  }
  return errors;
}

/** Index of `value` in sorted[from..to) (any of equal values: leaving out either leaves the same set). */
function rankOf(sorted: Float64Array, from: number, to: number, value: number): number {
  let low = from;
  let high = to - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Median of sorted[from..to) (all of it by default) with the element at index `skip` left out. */
export function medianWithout(sorted: Float64Array, skip: number, from = 0, to = sorted.length): number {
  const n = to - from - 1;
  if (n <= 0) return Number.NaN;
  // Rank k of the remaining elements sits at from + k, or one further once past `skip`.
  const upper = from + (n >>> 1);
  const high = sorted[upper < skip ? upper : upper + 1]!;
  if (n % 2 === 1) return high;
  const lower = upper - 1;
  return (sorted[lower < skip ? lower : lower + 1]! + high) / 2;
}
