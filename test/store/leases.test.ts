import { createTask } from 'node-cron';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { releaseLease, renewLease, selectLease, tryAcquireLease } from '../../src/store/leases.ts';
import { LeaseRunCoordinator, leaseName } from '../../src/store/run-coordinator.ts';
import { testLogger } from '../helpers/logger.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const T0 = new Date('2025-03-01T10:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe('leases', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await database.pool().query('delete from leases');
  });

  it('lets exactly one of many concurrent holders take a free lease', async () => {
    const holders = ['a', 'b', 'c', 'd', 'e', 'f'];
    const won = await Promise.all(holders.map((holder) => tryAcquireLease(database.pool(), 'sweep', holder, 30_000, T0)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const lease = await selectLease(database.pool(), 'sweep');
    expect(lease?.holder).toBe(holders[won.indexOf(true)]);
    expect(lease?.expires_at).toEqual(at(30_000));
  });

  it('refuses others until the lease expires, then hands it over', async () => {
    expect(await tryAcquireLease(database.pool(), 'sweep', 'a', 30_000, T0)).toBe(true);
    expect(await tryAcquireLease(database.pool(), 'sweep', 'b', 30_000, at(29_999))).toBe(false);
    expect(await tryAcquireLease(database.pool(), 'sweep', 'b', 30_000, at(30_000))).toBe(true);
    const lease = await selectLease(database.pool(), 'sweep');
    expect(lease).toMatchObject({ holder: 'b', acquired_at: at(30_000), expires_at: at(60_000) });
  });

  it('extends the lease for its holder and keeps the original acquisition time', async () => {
    await tryAcquireLease(database.pool(), 'sweep', 'a', 30_000, T0);
    expect(await tryAcquireLease(database.pool(), 'sweep', 'a', 30_000, at(20_000))).toBe(true);
    expect(await renewLease(database.pool(), 'sweep', 'a', 30_000, at(40_000))).toBe(true);
    expect(await selectLease(database.pool(), 'sweep')).toMatchObject({ holder: 'a', acquired_at: T0, expires_at: at(70_000) });
  });

  it('does not renew a lease that expired or belongs to someone else', async () => {
    await tryAcquireLease(database.pool(), 'sweep', 'a', 30_000, T0);
    expect(await renewLease(database.pool(), 'sweep', 'b', 30_000, at(1_000))).toBe(false);
    expect(await renewLease(database.pool(), 'sweep', 'a', 30_000, at(30_000))).toBe(false);
  });

  it('releases only for the holder', async () => {
    await tryAcquireLease(database.pool(), 'sweep', 'a', 30_000, T0);
    expect(await releaseLease(database.pool(), 'sweep', 'b')).toBe(false);
    expect(await releaseLease(database.pool(), 'sweep', 'a')).toBe(true);
    expect(await tryAcquireLease(database.pool(), 'sweep', 'b', 30_000, at(1))).toBe(true);
  });
});

describe('LeaseRunCoordinator', () => {
  let database: TestDatabase;
  const logger = testLogger();

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('elects one replica per tick, and each tick independently', async () => {
    let now = T0;
    const replicas = ['r1', 'r2'].map((holder) => new LeaseRunCoordinator({ pool: database.pool(), holder, logger, now: () => now }));
    const firstTick = 'sweep:2025-03-01T10:00:00.000Z';
    const first = await Promise.all(replicas.map((replica) => replica.shouldRun(firstTick, 30_000)));
    expect(first.filter(Boolean)).toHaveLength(1);

    now = at(60_000);
    const secondTick = 'sweep:2025-03-01T10:01:00.000Z';
    const second = await Promise.all(replicas.map((replica) => replica.shouldRun(secondTick, 30_000)));
    expect(second.filter(Boolean)).toHaveLength(1);
  });

  it('keeps a completed tick claimed so a late replica does not run it again', async () => {
    let now = T0;
    const [winner, late] = ['w', 'l'].map((holder) => new LeaseRunCoordinator({ pool: database.pool(), holder, logger, now: () => now }));
    const tick = 'profile:2025-03-01T10:00:00.000Z';
    expect(await winner?.shouldRun(tick, 30_000)).toBe(true);
    now = at(45_000); // the run outlasted its TTL
    await winner?.onComplete(tick);
    now = at(50_000);
    expect(await late?.shouldRun(tick, 30_000)).toBe(false);
    expect(await selectLease(database.pool(), leaseName(tick))).toMatchObject({ holder: 'w', expires_at: at(75_000) });
  });

  it('runs each node-cron tick on one of two replicas only', async () => {
    const runs: { replica: string; tick: string }[] = [];
    const tasks = ['r1', 'r2'].map((replica) =>
      createTask(
        '* * * * * *',
        (context) => {
          runs.push({ replica, tick: context.date.toISOString() });
        },
        {
          name: 'every-second',
          distributed: true,
          distributedLease: 5_000,
          runCoordinator: new LeaseRunCoordinator({ pool: database.pool(), holder: replica, logger }),
        },
      ),
    );
    for (const task of tasks) await task.start();
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    for (const task of tasks) await task.destroy();

    const ticks = runs.map((run) => run.tick);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});
