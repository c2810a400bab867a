// Scoring throughput: points scored per second on one core (target ≥ 1M), against a naive
// mean/stddev z-score over the same history measured in the same run, so the ratio says what the
// seasonal, robust baseline costs on this machine whatever its speed.
//
// Two loops:
// - points: one baseline built from 28 days of hourly history (auto seasonality, a time zone),
//   then every new point scored against it — a backtest or a benchmark replay. Target applies.
// - checks: the daemon's per-check loop — build the baseline from the check's 28-day history and
//   score its newest bucket, for many checks. Reported as checks/s; no target (dominated by the
//   one-off seasonality choice, which a profile tick pays once per check).
//
// Usage: node bench/scoring-throughput.ts [--points 200000] [--checks 2000] [--repetitions 5]

import { performance } from 'node:perf_hooks';
import { buildBaseline } from '../src/detect/baseline.ts';
import { localTime } from '../src/detect/local-time.ts';
import type { BaselineSettings, SeriesPoint } from '../src/detect/series.ts';
import { parseFlags, positiveInteger } from './lib/bench-args.ts';
import { printTable } from './lib/print-table.ts';
import { median } from './lib/timing.ts';

const HOUR = 3_600_000;
const TARGET_POINTS_PER_SECOND = 1_000_000;
const START = Date.UTC(2025, 1, 2); // a Sunday

const flags = parseFlags('scoring-throughput', {
  points: { default: 200_000, description: 'points scored per repetition in the points loop' },
  checks: { default: 2_000, description: 'checks evaluated per repetition in the checks loop' },
  repetitions: { default: 5, description: 'measured repetitions (the median is reported)' },
});
const POINTS = positiveInteger('points', flags.points);
const CHECKS = positiveInteger('checks', flags.checks);
const REPETITIONS = positiveInteger('repetitions', flags.repetitions);

const SETTINGS: BaselineSettings = {
  bucketMs: HOUR,
  sensitivity: 'medium',
  direction: 'both',
  minAbsoluteChange: 10,
  minRelativeChange: 0.2,
  seasonality: 'auto',
  timezone: 'Europe/Paris',
  minSpread: 1,
};

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48_271) % 2_147_483_647) / 2_147_483_647;
}

/** Orders-like rows per hour in Paris: a day curve, quieter weekends, ±10 % noise. */
function hourlyRows(ms: number, random: () => number): number {
  const local = localTime(new Date(ms), SETTINGS.timezone);
  const day = 100 + 900 * Math.max(0, Math.sin(((local.hour - 6) / 24) * 2 * Math.PI));
  const week = [0, 6].includes(local.weekday) ? 0.6 : 1;
  return Math.round(day * week * (0.9 + 0.2 * random()));
}

function makeHistory(hours: number, seed: number): SeriesPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: hours }, (_, i) => ({ bucket: new Date(START + i * HOUR), value: hourlyRows(START + i * HOUR, random) }));
}

/** New points after the history: a year of hours, repeated, so time-zone offsets vary as in life. */
function makePoints(count: number, afterMs: number): SeriesPoint[] {
  const random = seededRandom(7);
  return Array.from({ length: count }, (_, i) => {
    const ms = afterMs + (i % 8760) * HOUR;
    return { bucket: new Date(ms), value: hourlyRows(ms, random) };
  });
}

/** The naive detector: mean and stddev of the whole window, z-score per point. */
function naiveScorer(history: readonly SeriesPoint[]): (point: SeriesPoint) => 'ok' | 'fail' {
  let sum = 0;
  let squares = 0;
  for (const point of history) {
    sum += point.value;
    squares += point.value * point.value;
  }
  const mean = sum / history.length;
  const std = Math.sqrt(Math.max(squares / history.length - mean * mean, 1e-9));
  return (point) => (Math.abs((point.value - mean) / std) > 3 ? 'fail' : 'ok');
}

/** Runs `work` REPETITIONS times after one warm-up; returns the median duration in ms. */
function timeMedian(work: () => number): { ms: number; checksum: number } {
  let checksum = work();
  const durations: number[] = [];
  for (let i = 0; i < REPETITIONS; i++) {
    const start = performance.now();
    checksum += work();
    durations.push(performance.now() - start);
  }
  return { ms: median(durations), checksum };
}

const history = makeHistory(28 * 24, 1);
const points = makePoints(POINTS, START + 28 * 24 * HOUR);

const robust = buildBaseline(history, SETTINGS);
const robustPoints = timeMedian(() => {
  let failures = 0;
  for (const point of points) if (robust.score(point).status === 'fail') failures++;
  return failures;
});
const naive = naiveScorer(history);
const naivePoints = timeMedian(() => {
  let failures = 0;
  for (const point of points) if (naive(point) === 'fail') failures++;
  return failures;
});

const histories = Array.from({ length: Math.min(CHECKS, 50) }, (_, i) => makeHistory(28 * 24 + 1, 100 + i));
const robustChecks = timeMedian(() => {
  let failures = 0;
  for (let i = 0; i < CHECKS; i++) {
    const series = histories[i % histories.length]!;
    if (buildBaseline(series, SETTINGS).score(series.at(-1)!).status === 'fail') failures++;
  }
  return failures;
});
const naiveChecks = timeMedian(() => {
  let failures = 0;
  for (let i = 0; i < CHECKS; i++) {
    const series = histories[i % histories.length]!;
    if (naiveScorer(series.slice(0, -1))(series.at(-1)!) === 'fail') failures++;
  }
  return failures;
});

const perSecond = (count: number, ms: number): number => Math.round((count / ms) * 1000);
const pointsRate = perSecond(POINTS, robustPoints.ms);
const naivePointsRate = perSecond(POINTS, naivePoints.ms);
const checksRate = perSecond(CHECKS, robustChecks.ms);
const naiveChecksRate = perSecond(CHECKS, naiveChecks.ms);

console.log(`Scoring throughput (one core, ${REPETITIONS} repetitions, median; history: 28 days hourly, ${SETTINGS.timezone}, seasonality auto → ${robust.seasonality})`);
printTable(
  'Per second',
  ['loop', 'pipewarden', 'naive mean/stddev z', 'pipewarden / naive'],
  [
    [`points (${POINTS.toLocaleString('en-US')} against one baseline)`, pointsRate, naivePointsRate, Math.round((pointsRate / naivePointsRate) * 1000) / 1000],
    [`checks (${CHECKS.toLocaleString('en-US')}: build baseline + score newest)`, checksRate, naiveChecksRate, Math.round((checksRate / naiveChecksRate) * 1000) / 1000],
  ],
);
const met = pointsRate >= TARGET_POINTS_PER_SECOND;
console.log(`\nTarget ≥ ${TARGET_POINTS_PER_SECOND.toLocaleString('en-US')} points/s: ${met ? 'MET' : 'NOT MET'} (${pointsRate.toLocaleString('en-US')} points/s)`);
console.log(`(failures flagged, which keep the loops from being optimised away: ${robustPoints.checksum} ${naivePoints.checksum} ${robustChecks.checksum} ${naiveChecks.checksum})`);
if (!met) process.exitCode = 1;
