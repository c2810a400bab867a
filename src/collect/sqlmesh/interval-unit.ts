// SQLMesh cuts a model's time into intervals of one "interval unit", aligned to UTC calendar
// boundaries (a day is midnight to midnight UTC, a month starts on the 1st). The unit is either
// written on the model (`interval_unit`) or inferred from its cron: the largest unit no longer
// than the shortest gap between the cron's runs. That is why `@weekly` gives daily intervals
// (SQLMesh has no week unit: tables are not partitioned by week) and why a cron faster than five
// minutes is refused. The cron itself comes from cron-parser, already a dependency; the unit
// arithmetic is hand-written because it is SQLMesh's own rule, not a library's.

import { CronExpressionParser } from 'cron-parser';

export type IntervalUnit = 'year' | 'month' | 'day' | 'hour' | 'half_hour' | 'quarter_hour' | 'five_minute';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// Largest first; a unit is picked when its length fits in the cron's shortest gap. Month and year
// use SQLMesh's own lower bounds (28 and 365 days), so February still counts as monthly.
const UNIT_MS: ReadonlyArray<readonly [IntervalUnit, number]> = [
  ['year', 365 * DAY_MS],
  ['month', 28 * DAY_MS],
  ['day', DAY_MS],
  ['hour', 60 * MINUTE_MS],
  ['half_hour', 30 * MINUTE_MS],
  ['quarter_hour', 15 * MINUTE_MS],
  ['five_minute', 5 * MINUTE_MS],
];

const FIXED_MS: Readonly<Record<Exclude<IntervalUnit, 'year' | 'month'>, number>> = {
  day: DAY_MS,
  hour: 60 * MINUTE_MS,
  half_hour: 30 * MINUTE_MS,
  quarter_hour: 15 * MINUTE_MS,
  five_minute: 5 * MINUTE_MS,
};

// Enough runs to see the shortest gap of any regular cron (a weekday cron's 1-day gap shows
// within a week; a yearly one needs two runs).
const CRON_SAMPLES = 8;

export type IntervalUnitResult = { ok: true; unit: IntervalUnit } | { ok: false; reason: string };

/** The unit a model's `interval_unit` names, if it names one SQLMesh knows. */
export function parseIntervalUnit(text: unknown): IntervalUnit | undefined {
  if (typeof text !== 'string') return undefined;
  const lower = text.trim().toLowerCase();
  return UNIT_MS.some(([unit]) => unit === lower) ? (lower as IntervalUnit) : undefined;
}

/**
 * The interval unit SQLMesh infers from a cron (`@daily`, `@hourly`, `@weekly`, `@monthly`,
 * `@yearly` or five fields), or why it cannot be inferred. `from` only fixes where sampling
 * starts; the answer does not depend on it for a regular cron.
 */
export function intervalUnitFromCron(cron: string, from: Date = new Date(Date.UTC(2000, 0, 1))): IntervalUnitResult {
  let runs: number[];
  try {
    const expression = CronExpressionParser.parse(cron, { currentDate: from, tz: 'UTC' });
    runs = Array.from({ length: CRON_SAMPLES }, () => expression.next().getTime());
  } catch (error) {
    return { ok: false, reason: `cron ${JSON.stringify(cron)} is not one pipewarden can read (${error instanceof Error ? error.message : String(error)}); use @daily, @hourly, @weekly, @monthly or five fields` };
  }
  let shortest = Number.POSITIVE_INFINITY;
  for (let index = 1; index < runs.length; index++) shortest = Math.min(shortest, (runs[index] as number) - (runs[index - 1] as number));
  const match = UNIT_MS.find(([, ms]) => ms <= shortest);
  if (match === undefined) return { ok: false, reason: `cron ${JSON.stringify(cron)} runs more often than every 5 minutes, which SQLMesh does not allow` };
  return { ok: true, unit: match[0] };
}

/** The start of the interval holding `ms`. */
export function floorToUnit(ms: number, unit: IntervalUnit): number {
  const date = new Date(ms);
  if (unit === 'year') return Date.UTC(date.getUTCFullYear(), 0, 1);
  if (unit === 'month') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const size = FIXED_MS[unit];
  return Math.floor(ms / size) * size;
}

/** The first interval start at or after `ms`. */
export function ceilToUnit(ms: number, unit: IntervalUnit): number {
  const floor = floorToUnit(ms, unit);
  return floor === ms ? ms : nextIntervalStart(floor, unit);
}

/** The start of the interval after the one starting at `start`. */
export function nextIntervalStart(start: number, unit: IntervalUnit): number {
  const date = new Date(start);
  if (unit === 'year') return Date.UTC(date.getUTCFullYear() + 1, 0, 1);
  if (unit === 'month') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return start + FIXED_MS[unit];
}

/** The most recent cron run at or before `now`, in the cron's zone (UTC unless given). */
export function lastCronRun(cron: string, now: number, timezone?: string): number {
  // prev() is strictly before its start, so start a millisecond later to count a run at `now`.
  const expression = CronExpressionParser.parse(cron, { currentDate: new Date(now + 1), tz: timezone ?? 'UTC' });
  return expression.prev().getTime();
}

/** How an interval of this unit is named in messages: `2025-06-01`, `2025-06`, `2025-06-01 13:00`. */
export function formatIntervalStart(start: number, unit: IntervalUnit): string {
  const iso = new Date(start).toISOString();
  if (unit === 'year') return iso.slice(0, 4);
  if (unit === 'month') return iso.slice(0, 7);
  if (unit === 'day') return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** The adjective for a count of intervals: "3 daily intervals". */
export function unitAdjective(unit: IntervalUnit): string {
  const words: Record<IntervalUnit, string> = {
    year: 'yearly',
    month: 'monthly',
    day: 'daily',
    hour: 'hourly',
    half_hour: 'half-hourly',
    quarter_hour: 'quarter-hourly',
    five_minute: 'five-minute',
  };
  return words[unit];
}
