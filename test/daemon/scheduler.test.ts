import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaseJobLock } from '../../src/scheduler/lease-job-lock.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { LeaseRunCoordinator } from '../../src/store/run-coordinator.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const EVERY_SECOND = '*/1 * * * * *';

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const matching = metric?.values.filter((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected));
  return (matching ?? []).reduce((sum, value) => sum + value.value, 0);
}

describe('Scheduler', () => {
  const schedulers: Scheduler[] = [];
  function scheduler(extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): { scheduler: Scheduler; metrics: Metrics } {
    const metrics = new Metrics({ processMetrics: false });
    const created = new Scheduler({ logger: testLogger(), metrics, abortGraceMs: 500, ...extra });
    schedulers.push(created);
    return { scheduler: created, metrics };
  }

  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((created) => created.stop(100)));
  });

  it('never overlaps runs of one job, counting the blocked ticks as skipped', async () => {
    const { scheduler: subject, metrics } = scheduler();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    subject.add({
      name: 'slow',
      cron: EVERY_SECOND,
      run: async () => {
        runs += 1;
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(2_200);
        running -= 1;
      },
    });
    subject.start();
    await sleep(4_300);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    expect(maxRunning).toBe(1);
    expect(await counterValue(metrics, 'pipewarden_job_runs_total', { job: 'slow', outcome: 'skipped' })).toBeGreaterThanOrEqual(1);
  });

  it('keeps running a job that throws, counting each error', async () => {
    const { scheduler: subject, metrics } = scheduler();
    let attempts = 0;
    subject.add({
      name: 'broken',
      cron: EVERY_SECOND,
      run: () => {
        attempts += 1;
        return Promise.reject(new Error(`attempt ${attempts} failed`));
      },
    });
    subject.start();
    await sleep(2_600);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(await counterValue(metrics, 'pipewarden_job_runs_total', { job: 'broken', outcome: 'error' })).toBe(attempts);
    expect(await subject.runNow('broken')).toBe('error');
  });

  it('runNow runs at once, records the outcome and skips while a run is in flight', async () => {
    const { scheduler: subject, metrics } = scheduler();
    let release: () => void = () => undefined;
    subject.add({ name: 'manual', cron: '0 0 1 1 *', run: () => new Promise<void>((resolve) => (release = resolve)) });
    const first = subject.runNow('manual');
    await sleep(20);
    expect(subject.running()).toEqual(['manual']);
    expect(await subject.runNow('manual')).toBe('skipped');
    release();
    expect(await first).toBe('ok');
    expect(await counterValue(metrics, 'pipewarden_job_runs_total', { job: 'manual', outcome: 'ok' })).toBe(1);
    expect(await counterValue(metrics, 'pipewarden_job_duration_seconds', { job: 'manual' })).toBeGreaterThan(0);
    await expect(subject.runNow('missing')).rejects.toThrow('no job named missing');
  });

  it('rejects invalid cron expressions and duplicate names', () => {
    const { scheduler: subject } = scheduler();
    expect(() => subject.add({ name: 'bad', cron: 'every minute', run: () => Promise.resolve() })).toThrow('not a cron expression');
    subject.add({ name: 'twice', cron: '* * * * *', run: () => Promise.resolve() });
    expect(() => subject.add({ name: 'twice', cron: '* * * * *', run: () => Promise.resolve() })).toThrow('already scheduled');
  });

  it('stop waits for in-flight runs that finish before the deadline', async () => {
    const { scheduler: subject } = scheduler();
    let finished = false;
    subject.add({ name: 'short', cron: '0 0 1 1 *', run: async () => { await sleep(150); finished = true; } });
    void subject.runNow('short');
    await sleep(10);
    expect(await subject.stop(2_000)).toBe('finished');
    expect(finished).toBe(true);
    expect(await subject.runNow('short')).toBe('skipped');
  });

  it('stop aborts the signal of runs still going at the deadline', async () => {
    const { scheduler: subject } = scheduler();
    let sawAbort = false;
    subject.add({
      name: 'stubborn',
      cron: '0 0 1 1 *',
      run: (signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason as Error);
          });
        }),
    });
    const outcome = subject.runNow('stubborn');
    await sleep(10);
    const started = performance.now();
    expect(await subject.stop(300)).toBe('aborted');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(sawAbort).toBe(true);
    expect(await outcome).toBe('error');
  });

  describe('with a Postgres run coordinator shared by two replicas', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(() => database.drop());

    it('runs each tick on exactly one replica', async () => {
      const runsBySecond = new Map<number, string[]>();
      const replicas = ['replica-a', 'replica-b'].map((holder) => {
        const coordinator = new LeaseRunCoordinator({ pool: database.pool(), holder, logger: testLogger() });
        const created = scheduler({ coordinator });
        created.scheduler.add({
          name: 'sweep',
          cron: EVERY_SECOND,
          run: () => {
            const second = Math.floor(Date.now() / 1000);
            runsBySecond.set(second, [...(runsBySecond.get(second) ?? []), holder]);
            return Promise.resolve();
          },
        });
        return created;
      });
      for (const replica of replicas) replica.scheduler.start();
      await sleep(3_400);
      const ticks = [...runsBySecond.values()];
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      for (const holders of ticks) expect(holders).toHaveLength(1);
      const skipped = await Promise.all(replicas.map((replica) => counterValue(replica.metrics, 'pipewarden_job_runs_total', { job: 'sweep', outcome: 'skipped' })));
      expect(skipped[0]! + skipped[1]!).toBeGreaterThanOrEqual(ticks.length - 1);
    });

    it('with the job lock, a run longer than the interval never overlaps one on the other replica', async () => {
      let running = 0;
      let maxRunning = 0;
      let runs = 0;
      const replicas = ['replica-c', 'replica-d'].map((holder) => {
        const leaseOptions = { pool: database.pool(), holder, logger: testLogger() };
        const created = scheduler({ coordinator: new LeaseRunCoordinator(leaseOptions), jobLock: new LeaseJobLock({ ...leaseOptions, ttlMs: 900 }) });
        created.scheduler.add({
          name: 'long-sweep',
          cron: EVERY_SECOND,
          run: async () => {
            runs += 1;
            running += 1;
            maxRunning = Math.max(maxRunning, running);
            await sleep(1_500); // longer than the interval and than the lease TTL: the heartbeat keeps it
            running -= 1;
          },
        });
        return created;
      });
      for (const replica of replicas) replica.scheduler.start();
      await sleep(3_600);
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(maxRunning).toBe(1);
      const lease = await database.pool().query<{ name: string }>("select name from leases where name = 'job:long-sweep'");
      expect(lease.rowCount).toBeLessThanOrEqual(1);
    });

    it('stop releases the job lock of a run it had to leave behind', async () => {
      const jobLock = new LeaseJobLock({ pool: database.pool(), holder: 'replica-g', logger: testLogger() });
      const { scheduler: subject } = scheduler({ jobLock, abortGraceMs: 100 });
      let finish: () => void = () => undefined;
      subject.add({ name: 'deaf', cron: '0 0 1 1 *', run: () => new Promise<void>((resolve) => (finish = resolve)) });
      const outcome = subject.runNow('deaf');
      await sleep(100);
      expect(await subject.stop(100)).toBe('aborted');
      const other = new LeaseJobLock({ pool: database.pool(), holder: 'replica-h', logger: testLogger() });
      const taken = await other.acquire('deaf');
      expect(taken).toBeDefined();
      await taken?.release();
      finish();
      expect(await outcome).toBe('ok');
    });

    it('a held job lock makes runNow skip on the other replica, and release frees it', async () => {
      const lockA = new LeaseJobLock({ pool: database.pool(), holder: 'replica-e', logger: testLogger() });
      const held = await lockA.acquire('profile');
      expect(held).toBeDefined();
      const { scheduler: subject, metrics } = scheduler({ jobLock: new LeaseJobLock({ pool: database.pool(), holder: 'replica-f', logger: testLogger() }) });
      let ran = 0;
      subject.add({ name: 'profile', cron: '0 0 1 1 *', run: () => Promise.resolve((ran += 1)) });
      expect(await subject.runNow('profile')).toBe('skipped');
      await held?.release();
      expect(await subject.runNow('profile')).toBe('ok');
      expect(ran).toBe(1);
      expect(await counterValue(metrics, 'pipewarden_job_runs_total', { job: 'profile', outcome: 'skipped' })).toBe(1);
    });
  });
});
