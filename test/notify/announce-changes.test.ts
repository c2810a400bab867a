// From a real sweep to the console: the freshness of a feed turns from ok to fail between two
// sweeps, and the console notifier prints one line saying where it would have gone.

import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepContext } from '../../src/collect/sweep.ts';
import { announceStatusChanges } from '../../src/notify/announce-changes.ts';
import { ConsoleNotifier } from '../../src/notify/console-notifier.ts';
import type { Notification, Notifier } from '../../src/notify/notification.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const T0 = new Date('2025-06-02T08:00:00Z');
const minutesAfter = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

let state: TestDatabase;
let warehouseDb: TestDatabase;

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  const client = new pg.Client({ connectionString: warehouseDb.url });
  await client.connect();
  await client.query('create schema raw; create table raw.inventory (id int, loaded_at timestamptz not null)');
  await client.query('insert into raw.inventory values (1, $1)', [T0]);
  await client.end();
});

afterAll(async () => {
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
});

class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  async send(notification: Notification): Promise<void> {
    this.sent.push(notification);
  }
}

function contextAt(now: Date): SweepContext {
  const config = daemonConfig(state.url, { shop: warehouseDb.url }, {
    monitors: [{ assets: 'shop.raw.inventory', owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '2m', error_after: '5m' } }],
    owners: { inventory: { slack: '#inventory-data', pagerduty: 'key-123' } },
  });
  const warehouse = createPostgresWarehouse('shop', config.warehouses.shop!, testLogger());
  return { config, warehouses: new Map([['shop', warehouse]]), state: state.pool(), logger: testLogger(), metrics: new Metrics({ processMetrics: false }), now: () => now };
}

async function sweepAndAnnounce(now: Date, notifier: Notifier): Promise<void> {
  const context = contextAt(now);
  try {
    const result = await runSweep(context, new AbortController().signal);
    await announceStatusChanges({ config: context.config, notifier, logger: context.logger, metrics: context.metrics }, result);
  } finally {
    for (const warehouse of context.warehouses.values()) await warehouse.close();
  }
}

describe('announcing status changes after a sweep', () => {
  it('announces the turn to fail once, then the recovery, and prints where it would have gone', async () => {
    const recorder = new RecordingNotifier();
    await sweepAndAnnounce(minutesAfter(1), recorder);
    expect(recorder.sent).toEqual([]);

    await sweepAndAnnounce(minutesAfter(7), recorder);
    await sweepAndAnnounce(minutesAfter(8), recorder);
    expect(recorder.sent.map((notification) => [notification.status, notification.previousStatus])).toEqual([['fail', 'ok']]);

    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const client = new pg.Client({ connectionString: warehouseDb.url });
    await client.connect();
    await client.query('insert into raw.inventory values (2, $1)', [minutesAfter(9)]);
    await client.end();
    await sweepAndAnnounce(minutesAfter(10), new ConsoleNotifier(createLogger({ level: 'info', destination: sink })));
    const printed = lines.map((line) => JSON.parse(line) as { msg: string; status: string }).filter((line) => line.msg.startsWith('notification'));
    expect(printed).toHaveLength(1);
    expect(printed[0]?.status).toBe('ok');
    expect(printed[0]?.msg).toBe(
      'notification for Slack #inventory-data and PagerDuty (owner inventory): RECOVERED freshness: shop.raw.inventory: newest loaded_at is 1m old (warn after 2m, fail after 5m)',
    );
    expect(lines.join('')).not.toContain('key-123');
  });

  it('keeps going when a notifier fails, counting the failure', async () => {
    const failing: Notifier = { send: () => Promise.reject(new Error('slack is down')) };
    const context = contextAt(minutesAfter(60));
    const result = { tables: 1, findings: [{ check: 'freshness:x', kind: 'freshness' as const, asset: 'x', status: 'fail' as const, observed: 1, message: 'x' }], previousStatuses: new Map() };
    const sent = await announceStatusChanges({ config: context.config, notifier: failing, logger: testLogger(), metrics: context.metrics }, result);
    expect(sent).toBe(0);
    expect(await context.metrics.registry.getSingleMetricAsString('pipewarden_loop_errors_total')).toContain('loop="notify"} 1');
    for (const warehouse of context.warehouses.values()) await warehouse.close();
  });
});
