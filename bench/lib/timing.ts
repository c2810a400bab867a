// Timing helpers. The machine is noisy, so benchmarks compare medians of repeated runs against
// a baseline measured in the same process, never absolute numbers alone.

import { performance } from 'node:perf_hooks';

export async function timeOnce(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs `work` `warmUp` times unmeasured, then `repetitions` times; returns each duration (ms). */
export async function timeRepeated(work: () => Promise<unknown>, repetitions: number, warmUp = 1): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await work();
  const durations: number[] = [];
  for (let i = 0; i < repetitions; i++) durations.push(await timeOnce(work));
  return durations;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Peak resident set size of this process so far, in MiB (maxRSS is reported in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
