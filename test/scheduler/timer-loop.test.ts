// TimerLoop: passes with a pause between, a wake-up during a pass brings the next pass forward,
// a failing pass is counted and backed off rather than escaping, stop waits for the pass in flight.

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { backoffMs, TimerLoop } from '../../src/scheduler/timer-loop.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';

class ScriptedLoop extends TimerLoop {
  readonly passes: number[] = [];
  private readonly script: (pass: number) => Promise<number | undefined>;
  constructor(script: (pass: number) => Promise<number | undefined>, metrics?: Metrics) {
    super({ name: 'scripted', logger: testLogger(), intervalMs: 60_000, metrics, random: () => 0 });
    this.script = script;
  }
  protected async pass(): Promise<number | undefined> {
    this.passes.push(Date.now());
    return this.script(this.passes.length);
  }
}

describe('TimerLoop', () => {
  it('runs at once, then waits the interval; a wake during a pass brings the next one forward', async () => {
    let release: () => void = () => undefined;
    const loop = new ScriptedLoop((pass) => (pass === 1 ? new Promise<undefined>((resolve) => (release = () => resolve(undefined))) : Promise.resolve(undefined)));
    loop.start();
    await expect.poll(() => loop.passes.length).toBe(1);
    loop.wake();
    release();
    await expect.poll(() => loop.passes.length, { timeout: 2_000 }).toBe(2);
    await sleep(100);
    expect(loop.passes).toHaveLength(2); // then the 60 s interval
    await loop.stop();
  });

  it('counts a failing pass and backs off instead of throwing', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const loop = new ScriptedLoop(async () => {
      throw new Error('warehouse gone');
    }, metrics);
    loop.start();
    await expect.poll(async () => (await metrics.loopErrors.get()).values[0]?.value).toBe(1);
    await loop.stop();
  });

  it('stop waits for the pass in flight and schedules nothing after it', async () => {
    let finished = false;
    const loop = new ScriptedLoop(async () => {
      await sleep(200);
      finished = true;
      return 0;
    });
    loop.start();
    await expect.poll(() => loop.passes.length).toBe(1);
    await loop.stop();
    expect(finished).toBe(true);
    await sleep(50);
    expect(loop.passes).toHaveLength(1);
  });
});

describe('backoffMs', () => {
  it('doubles per failure from the base, within its jitter band, up to the cap', () => {
    expect(backoffMs(1_000, 0, () => 0)).toBe(500);
    expect(backoffMs(1_000, 1, () => 1)).toBe(2_000);
    expect(backoffMs(1_000, 3, () => 0.5)).toBe(6_000);
    expect(backoffMs(1_000, 50, () => 1)).toBe(300_000);
    expect(backoffMs(1_000, 50, () => 1, 10_000)).toBe(10_000);
  });
});
