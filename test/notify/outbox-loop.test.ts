// The outbox on a real state database: from a real sweep to a console line; retries with
// backoff until the receiver takes an item, in order per incident and never twice; dead letters;
// a sender that dies after claiming hands its items over when the claim runs out.

import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/collect/sweep.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { consoleDeliverer } from '../../src/notify/console-deliverer.ts';
import type { DeliveryOutcome } from '../../src/notify/delivery.ts';
import { OutboxLoop } from '../../src/notify/outbox-loop.ts';
import { insertIncident, insertOutboxItems } from '../../src/store/incident-records.ts';
import { claimDueItems, type OutboxRow } from '../../src/store/outbox.ts';
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

function shopConfig() {
  return daemonConfig(state.url, { shop: warehouseDb.url }, {
    monitors: [{ assets: 'shop.raw.inventory', owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '2m', error_after: '5m' } }],
    owners: { inventory: { slack: '#inventory-data', pagerduty: 'key-123' } },
  });
}

/** Items queued for a fresh incident of `check`, as applyFindings would have written them. */
async function queue(check: string, payloads: ReadonlyArray<Record<string, unknown>>, channel: 'console' | 'pagerduty' = 'pagerduty'): Promise<string> {
  const client = await state.pool().connect();
  try {
    const incident = await insertIncident(client, {
      finding: { check, kind: 'freshness', asset: check.split(':')[1] ?? check, status: 'fail', observed: 1, message: 'stale' },
      severity: 'critical',
      flapping: false,
      owner: undefined,
      openedAt: T0,
    });
    await insertOutboxItems(client, payloads.map((payload) => ({ incidentId: incident.id, channel, payload })), T0);
    return incident.id;
  } finally {
    client.release();
  }
}

describe('outbox delivery', () => {
  it('takes a real sweep\'s failure to one console line saying where it would have gone', async () => {
    const config = shopConfig();
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const metrics = new Metrics({ processMetrics: false });
    const warehouse = createPostgresWarehouse('shop', config.warehouses.shop!, testLogger());
    try {
      for (const minutes of [1, 10]) {
        const now = minutesAfter(minutes);
        const context = { config, warehouses: new Map([['shop', warehouse]]), state: state.pool(), logger: testLogger(), metrics, now: () => now };
        const result = await runSweep(context, new AbortController().signal);
        await applyFindings(state.pool(), config, result.findings, now);
      }
    } finally {
      await warehouse.close();
    }
    const loop = new OutboxLoop({ pool: state.pool(), deliverers: { console: consoleDeliverer(logger, config), pagerduty: async () => ({ status: 'delivered' }) }, logger: testLogger(), metrics, now: () => minutesAfter(10) });
    expect(await loop.deliverDue()).toBe(2);
    const consoleLines = lines.filter((line) => line.notifier === 'console');
    expect(consoleLines).toHaveLength(1);
    expect(consoleLines[0]).toMatchObject({ check: 'freshness:shop.raw.inventory', status: 'fail', change: 'opened' });
    expect(consoleLines[0]?.msg).toMatch(/^notification for Slack #inventory-data and PagerDuty \(owner inventory\): OPENED \(critical\) incident #\d+ freshness: shop\.raw\.inventory: newest loaded_at is 10m old/);
    expect(await loop.deliverDue()).toBe(0);
    expect((await metrics.notificationsDelivered.get()).values.map((value) => [value.labels.channel, value.value])).toEqual([
      ['console', 1],
      ['pagerduty', 1],
    ]);
  });

  it('retries 500s and 429s with backoff, then delivers every item once, in order per incident', async () => {
    const first = await queue('freshness:a.retried', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const second = await queue('freshness:b.retried', [{ n: 1 }]);
    const script: DeliveryOutcome[] = [
      { status: 'retry', reason: 'HTTP 500' },
      { status: 'retry', reason: 'HTTP 500' },
      { status: 'retry', reason: 'HTTP 429', retryAfterMs: 30_000 },
    ];
    const delivered: Array<[string, unknown]> = [];
    let clock = T0.getTime();
    const metrics = new Metrics({ processMetrics: false });
    const loop = new OutboxLoop({
      pool: state.pool(),
      deliverers: {
        pagerduty: async (item: OutboxRow) => {
          if (item.incident_id !== first && item.incident_id !== second) return { status: 'delivered' };
          const scripted = script.shift();
          if (scripted !== undefined) return scripted;
          delivered.push([item.incident_id, item.payload.n]);
          return { status: 'delivered' };
        },
      },
      logger: testLogger(),
      metrics,
      now: () => new Date(clock),
      random: () => 0,
    });
    for (let pass = 0; pass < 40 && delivered.length < 4; pass += 1) {
      await loop.deliverDue();
      clock += 10_000;
    }
    expect(delivered.filter(([incident]) => incident === first).map(([, n]) => n)).toEqual([1, 2, 3]);
    expect(delivered.filter(([incident]) => incident === second).map(([, n]) => n)).toEqual([1]);
    expect((await metrics.notificationsRetried.get()).values[0]?.value).toBe(3);
    const { rows } = await state.pool().query<{ status: string; attempts: number }>(
      "SELECT o.status, o.attempts FROM outbox o JOIN incidents i ON i.id = o.incident_id WHERE i.check_id LIKE '%.retried' ORDER BY o.id",
    );
    expect(rows.every((row) => row.status === 'delivered')).toBe(true);
  });

  it('dead-letters what the receiver refuses for good, and the incident\'s next item still goes', async () => {
    const incident = await queue('freshness:c.refused', [{ n: 1 }, { n: 2 }]);
    const metrics = new Metrics({ processMetrics: false });
    const seen: unknown[] = [];
    const loop = new OutboxLoop({
      pool: state.pool(),
      deliverers: {
        pagerduty: async (item) => {
          if (item.incident_id !== incident) return { status: 'delivered' };
          seen.push(item.payload.n);
          return item.payload.n === 1 ? { status: 'dead', reason: 'HTTP 400 invalid routing key' } : { status: 'delivered' };
        },
      },
      logger: testLogger(),
      metrics,
      now: () => T0,
    });
    await loop.deliverDue();
    await loop.deliverDue();
    expect(seen).toEqual([1, 2]);
    expect((await metrics.notificationsDeadLettered.get()).values).toEqual([{ labels: { channel: 'pagerduty' }, value: 1 }]);
    const { rows } = await state.pool().query<{ status: string; last_error: string | null }>('SELECT status, last_error FROM outbox WHERE incident_id = $1 ORDER BY id', [incident]);
    expect(rows).toEqual([
      { status: 'dead', last_error: 'HTTP 400 invalid routing key' },
      { status: 'delivered', last_error: null },
    ]);
    const { rows: timeline } = await state.pool().query<{ type: string; source: string; detail: Record<string, unknown> }>(
      'SELECT type, source, detail FROM incident_events WHERE incident_id = $1 ORDER BY id',
      [incident],
    );
    expect(timeline).toEqual([
      { type: 'notification_failed', source: 'pagerduty', detail: { change: null, attempts: 1, error: 'HTTP 400 invalid routing key' } },
      { type: 'notified', source: 'pagerduty', detail: { change: null, attempts: 1 } },
    ]);
  });

  it('hands over the items of a sender that died after claiming them, once its claim runs out', async () => {
    const incident = await queue('freshness:d.orphaned', [{ n: 1 }]);
    // The dead sender: it claimed the item with a 60 s lease and never came back.
    const claimed = await claimDueItems(state.pool(), T0, 60_000, 100);
    expect(claimed.map((item) => item.incident_id)).toContain(incident);
    const delivered: string[] = [];
    let clock = T0.getTime() + 30_000;
    const loop = new OutboxLoop({
      pool: state.pool(),
      deliverers: { pagerduty: async (item) => (delivered.push(item.incident_id), { status: 'delivered' }), console: async () => ({ status: 'delivered' }) },
      logger: testLogger(),
      metrics: new Metrics({ processMetrics: false }),
      now: () => new Date(clock),
    });
    await loop.deliverDue();
    expect(delivered).not.toContain(incident);
    clock = T0.getTime() + 61_000;
    await loop.deliverDue();
    expect(delivered.filter((id) => id === incident)).toHaveLength(1);
  });

  it('reports the backlog: depth and the age of the oldest pending item', async () => {
    await queue('freshness:e.waiting', [{ n: 1 }]);
    const metrics = new Metrics({ processMetrics: false });
    const loop = new OutboxLoop({ pool: state.pool(), deliverers: {}, logger: testLogger(), metrics, now: () => minutesAfter(2), random: () => 0 });
    await loop.deliverDue();
    expect((await metrics.outboxDepth.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    expect((await metrics.outboxOldestPendingAge.get()).values[0]?.value).toBe(120);
  });

  it('runs on its own once started, delivers when woken, and stops', async () => {
    const incident = await queue('freshness:f.looped', [{ n: 1 }], 'console');
    const delivered: string[] = [];
    const loop = new OutboxLoop({
      pool: state.pool(),
      deliverers: { console: async (item) => (delivered.push(item.incident_id), { status: 'delivered' }), pagerduty: async () => ({ status: 'delivered' }) },
      logger: testLogger(),
      metrics: new Metrics({ processMetrics: false }),
      now: () => minutesAfter(60),
      pollMs: 60_000,
    });
    loop.start();
    await expect.poll(() => delivered.includes(incident), { timeout: 5_000 }).toBe(true);
    const later = await queue('freshness:g.looped', [{ n: 1 }], 'console');
    loop.wake();
    await expect.poll(() => delivered.includes(later), { timeout: 5_000 }).toBe(true);
    await loop.stop();
  });
});
