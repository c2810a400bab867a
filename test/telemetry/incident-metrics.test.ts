// Incident and delivery metrics from a real lifecycle on a real state database: a check fails,
// pages, passes and resolves; applyFindings says how long the incident was open (the MTTR
// histogram's input), and the outbox times each delivery and counts the PagerDuty trigger as one
// page (its resolve is not a page).

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFindings, type IncidentOutcome } from '../../src/incidents/apply-findings.ts';
import type { Deliverer } from '../../src/notify/delivery.ts';
import { OutboxLoop } from '../../src/notify/outbox-loop.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding, FindingStatus } from '../../src/types.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const MINUTE = 60_000;
const T0 = new Date('2025-06-02T08:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * MINUTE);

let state: TestDatabase;

beforeAll(async () => {
  state = await createTestDatabase();
});

afterAll(async () => {
  await state?.drop();
});

const config = () =>
  daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
    monitors: [{ assets: 'shop.*', owner: 'inventory-team', freshness: true }],
    owners: { 'inventory-team': { slack: '#inventory-data', pagerduty: 'routing-key-inventory' } },
    incidents: { pending: { fail: 1, warn: 2, error: 3 }, resolve_after: 2 },
  });

const finding = (status: FindingStatus): Finding => ({ check: 'freshness:shop.orders', kind: 'freshness', asset: 'shop.orders', status, observed: 1, message: `shop.orders is ${status}` });

describe('incident and delivery metrics', () => {
  it('report how long a resolved incident was open, time each delivery and count its page once', async () => {
    const outcomes: IncidentOutcome[] = [];
    for (const [minute, status] of [[0, 'fail'], [5, 'fail'], [30, 'ok'], [45, 'ok']] as const) outcomes.push(await applyFindings(state.pool(), config(), [finding(status)], at(minute)));
    expect(outcomes.map((outcome) => outcome.resolvedAfter)).toEqual([[], [], [], [{ severity: 'critical', seconds: 45 * 60 }]]);

    const metrics = new Metrics({ processMetrics: false });
    const slowDelivery: Deliverer = async () => {
      await sleep(20);
      return { status: 'delivered' };
    };
    const loop = new OutboxLoop({ pool: state.pool(), deliverers: { console: slowDelivery, pagerduty: slowDelivery }, logger: testLogger(), metrics, now: () => at(45) });
    // Opened, then resolved (items of one incident and channel go one at a time), each told to
    // the console and PagerDuty (trigger, then resolve).
    expect([await loop.deliverDue(), await loop.deliverDue(), await loop.deliverDue()]).toEqual([2, 2, 0]);

    expect((await metrics.pages.get()).values.map(({ labels, value }) => [labels.severity, value])).toEqual([['critical', 1]]);
    const durations = (await metrics.notificationDeliveryDuration.get()).values;
    const count = (channel: string) => durations.find((value) => value.metricName === 'pipewarden_notification_delivery_duration_seconds_count' && value.labels.channel === channel)?.value;
    const sum = (channel: string) => durations.find((value) => value.metricName === 'pipewarden_notification_delivery_duration_seconds_sum' && value.labels.channel === channel)?.value ?? 0;
    expect([count('console'), count('pagerduty')]).toEqual([2, 2]);
    expect(sum('pagerduty')).toBeGreaterThanOrEqual(0.035);
  });
});
