// Deterministic series for detector tests: a seeded generator instead of Math.random, so a
// failing test fails the same way every run.

import type { BaselineSettings, SeriesPoint } from '../../src/detect/series.ts';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** A Sunday, midnight UTC. */
export const SUNDAY = Date.UTC(2025, 1, 2);

/** Park–Miller: values in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}

/** `count` buckets from `startMs`, each `shape(bucketStartMs)` plus up to ±`noise` share of it. */
export function makeSeries(startMs: number, bucketMs: number, count: number, shape: (ms: number) => number, noise = 0.05, seed = 42): SeriesPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const ms = startMs + i * bucketMs;
    const value = shape(ms);
    return { bucket: new Date(ms), value: Math.round(value * (1 + noise * (2 * random() - 1))) };
  });
}

export function settings(overrides: Partial<BaselineSettings> = {}): BaselineSettings {
  return {
    bucketMs: DAY,
    sensitivity: 'medium',
    direction: 'both',
    minAbsoluteChange: 10,
    minRelativeChange: 0.2,
    seasonality: 'auto',
    minSpread: 1,
    ...overrides,
  };
}

/** Daily rows: 1,000 on weekdays, 200 on Sundays (UTC). */
export const quietSundays = (ms: number): number => (new Date(ms).getUTCDay() === 0 ? 200 : 1000);

/** Hourly rows: 100 by day, 10 between 00:00 and 06:00 (UTC). */
export const nightDip = (ms: number): number => (new Date(ms).getUTCHours() < 6 ? 10 : 100);
