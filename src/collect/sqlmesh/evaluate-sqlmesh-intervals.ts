// Pure: one SQLMesh model's processed intervals + settings + now → one `run` finding. The
// intervals that should exist are those of the model's unit from max(start, now − lookback) up to
// the interval boundary at or before the cron's most recent run (a "0 5 * * *" model is expected to
// hold yesterday from 05:00 on; a weekday model is not expected to hold Saturday until Monday's
// run). The newest of them may still be in flight for `late_after` after that run.

import { formatAge } from '../../detect/format-age.ts';
import { formatDuration } from '../../config/duration.ts';
import { checkId, type Finding } from '../../types.ts';
import {
  ceilToUnit,
  floorToUnit,
  formatIntervalStart,
  intervalUnitFromCron,
  lastCronRun,
  nextIntervalStart,
  parseIntervalUnit,
  unitAdjective,
  type IntervalUnit,
} from './interval-unit.ts';
import { rangeCovered, type TimeRange } from './merge-intervals.ts';

/** One model of the watched environment, as read from the state tables. */
export interface SqlmeshModel {
  /** The model's name as its author writes it, e.g. `sushi.waiter_revenue_by_day`. */
  name: string;
  /** Model kind, e.g. `INCREMENTAL_BY_TIME_RANGE`, `VIEW`. */
  kind: string | undefined;
  cron: string | undefined;
  cronTimezone: string | undefined;
  /** `interval_unit` when the model sets it; it wins over the cron's. */
  intervalUnit: string | undefined;
  /** First time the model has data for (epoch ms), when it says. */
  start: number | undefined;
  /** Last time the model has data for (epoch ms), when it says. */
  end: number | undefined;
  /** The processed prod ranges of the model's version, merged. */
  intervals: TimeRange[];
  /** Why the model could not be read, when it could not. */
  problem?: string | undefined;
}

export interface SqlmeshIntervalSettings {
  lateAfterMs: number;
  lookbackMs: number;
}

// Kinds with no intervals of their own to fill: views and embedded models are queries, seeds are
// loaded once from a file, external models are someone else's tables.
const KINDS_WITHOUT_INTERVALS = new Set(['VIEW', 'EMBEDDED', 'SEED', 'EXTERNAL']);
// SQLMesh's default when a model names no cron.
const DEFAULT_CRON = '@daily';
// A year of five-minute intervals is about 105k.
const MAX_EXPECTED_INTERVALS = 200_000;
const LISTED_INTERVALS = 5;

export function sqlmeshAssetKey(modelName: string): string {
  return `sqlmesh:${modelName}`;
}

export function sqlmeshCheckId(modelName: string): string {
  return `${checkId('run', sqlmeshAssetKey(modelName))}:intervals`;
}

/** Whether the model is of a kind whose intervals can be judged. */
export function judgesIntervals(kind: string | undefined): boolean {
  return kind === undefined || !KINDS_WITHOUT_INTERVALS.has(kind.toUpperCase());
}

/** The model's finding, or undefined for kinds without intervals to judge. */
export function evaluateSqlmeshIntervals(model: SqlmeshModel, settings: SqlmeshIntervalSettings, now: Date): Finding | undefined {
  if (!judgesIntervals(model.kind)) return undefined;
  const asset = sqlmeshAssetKey(model.name);
  const base = { check: sqlmeshCheckId(model.name), kind: 'run' as const, asset };
  if (model.problem !== undefined) return { ...base, status: 'error', observed: null, message: `${asset}: ${model.problem}` };

  const cron = model.cron ?? DEFAULT_CRON;
  const unitResult = unitOf(model, cron);
  if (!unitResult.ok) return { ...base, status: 'error', observed: null, message: `${asset}: cannot judge intervals: ${unitResult.reason}` };
  const unit = unitResult.unit;

  let lastRun: number;
  try {
    lastRun = lastCronRun(cron, now.getTime(), model.cronTimezone);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ...base, status: 'error', observed: null, message: `${asset}: cannot judge intervals: cron ${JSON.stringify(cron)} in zone ${JSON.stringify(model.cronTimezone ?? 'UTC')} is not readable (${reason})` };
  }

  const expected = expectedIntervals(model, settings, now.getTime(), lastRun, unit);
  const missing = expected.filter((start) => !rangeCovered(model.intervals, start, nextIntervalStart(start, unit)));
  const newest = expected.at(-1);
  const sinceRun = now.getTime() - lastRun;
  const newestPending = newest !== undefined && missing.at(-1) === newest && sinceRun <= settings.lateAfterMs;
  const overdue = newestPending ? missing.slice(0, -1) : missing;
  const filled = describeNewestFilled(model.intervals, unit);
  const adjective = unitAdjective(unit);
  const expectedRange = { expected: { low: 0, high: 0 } };

  if (overdue.length === 0) {
    const message = newestPending
      ? `${asset}: ${adjective} interval ${formatIntervalStart(newest, unit)} not filled yet, due since the ${formatRun(lastRun)} run (${formatAge(sinceRun)} ago, grace ${formatDuration(settings.lateAfterMs)}); ${filled}`
      : expected.length === 0
        ? `${asset}: no ${adjective} intervals due yet; ${filled}`
        : `${asset}: all ${expected.length} ${adjective} intervals from ${formatIntervalStart(expected[0] as number, unit)} to ${formatIntervalStart(newest as number, unit)} present; ${filled}`;
    return { ...base, status: 'ok', observed: 0, ...expectedRange, message };
  }
  const bucket = new Date(overdue[0] as number).toISOString();
  if (newest !== undefined && overdue.length === 1 && overdue[0] === newest) {
    const message = `${asset}: ${adjective} interval ${formatIntervalStart(newest, unit)} is late: the ${formatRun(lastRun)} run should have filled it ${formatAge(sinceRun)} ago (grace ${formatDuration(settings.lateAfterMs)}); ${filled}`;
    return { ...base, status: 'warn', observed: 1, ...expectedRange, bucket, message };
  }
  const count = overdue.length === 1 ? `1 ${adjective} interval missing` : `${overdue.length} ${adjective} intervals missing`;
  const message = `${asset}: ${count} (${listIntervals(overdue, unit)}); ${filled}`;
  return { ...base, status: 'fail', observed: overdue.length, ...expectedRange, bucket, message };
}

function unitOf(model: SqlmeshModel, cron: string): { ok: true; unit: IntervalUnit } | { ok: false; reason: string } {
  const written = parseIntervalUnit(model.intervalUnit);
  if (written !== undefined) return { ok: true, unit: written };
  if (model.intervalUnit !== undefined) return { ok: false, reason: `interval_unit ${JSON.stringify(model.intervalUnit)} is not one SQLMesh knows` };
  return intervalUnitFromCron(cron);
}

function expectedIntervals(model: SqlmeshModel, settings: SqlmeshIntervalSettings, now: number, lastRun: number, unit: IntervalUnit): number[] {
  const from = ceilToUnit(Math.max(model.start ?? Number.NEGATIVE_INFINITY, now - settings.lookbackMs), unit);
  let until = floorToUnit(lastRun, unit);
  // A model with an end has nothing to fill after it (end is the last moment it covers).
  if (model.end !== undefined) until = Math.min(until, ceilToUnit(model.end, unit));
  const starts: number[] = [];
  for (let start = from; nextIntervalStart(start, unit) <= until; start = nextIntervalStart(start, unit)) starts.push(start);
  // Only the newest count; a lookback this long is a typo, not a reason to run out of memory.
  return starts.length > MAX_EXPECTED_INTERVALS ? starts.slice(-MAX_EXPECTED_INTERVALS) : starts;
}

function describeNewestFilled(intervals: readonly TimeRange[], unit: IntervalUnit): string {
  const newestEnd = intervals.reduce<number | undefined>((latest, range) => (latest === undefined || range[1] > latest ? range[1] : latest), undefined);
  if (newestEnd === undefined) return 'nothing filled yet';
  // Whole-day units read best as the last interval held ("ends 2025-05-31"); shorter ones as the
  // moment the data reaches.
  const label = unit === 'year' || unit === 'month' || unit === 'day' ? formatIntervalStart(floorToUnit(newestEnd - 1, unit), unit) : `${formatIntervalStart(newestEnd, unit)} UTC`;
  return `newest filled ends ${label}`;
}

/** The missing intervals, runs of four or more shown as a range, the first few and a count. */
function listIntervals(starts: readonly number[], unit: IntervalUnit): string {
  const runs: number[][] = [];
  for (const start of starts) {
    const run = runs.at(-1);
    if (run !== undefined && nextIntervalStart(run.at(-1) as number, unit) === start) run.push(start);
    else runs.push([start]);
  }
  const items = runs.flatMap((run) =>
    run.length >= 4
      ? [`${formatIntervalStart(run[0] as number, unit)}..${formatIntervalStart(run.at(-1) as number, unit)} (${run.length})`]
      : run.map((start) => formatIntervalStart(start, unit)),
  );
  const shown = items.slice(0, LISTED_INTERVALS).join(', ');
  return items.length > LISTED_INTERVALS ? `${shown}, and ${items.length - LISTED_INTERVALS} more` : shown;
}

function formatRun(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
