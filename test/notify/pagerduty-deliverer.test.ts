// The PagerDuty channel of the outbox: which routing key an item goes to (the owner's, else the
// default, else a dead letter that says what to configure), the event built from the item, and
// the per-key budget that holds events back before PagerDuty would answer 429. The client it
// hands events to is tested against a real HTTPS server in pagerduty-client.test.ts; here it
// records what it is given.

import { describe, expect, it } from 'vitest';
import type { PagerDutyEventBody } from '../../src/notify/pagerduty-event.ts';
import { pagerDutyDeliverer } from '../../src/notify/pagerduty-deliverer.ts';
import type { OutboxRow } from '../../src/store/outbox.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';

const config = daemonConfig('postgres://state@127.0.0.1:1/state', { shop: 'postgres://x@127.0.0.1:1/shop' }, {
  owners: { inventory: { pagerduty: 'key-inventory' }, analytics: { slack: '#analytics' } },
  pagerduty: { routing_key: 'key-default' },
  notifications: { grafana_url: 'https://grafana.example.com/d/pipewarden' },
});

function item(owner: string | null, action = 'trigger'): OutboxRow {
  return {
    id: '1',
    incident_id: '7',
    channel: 'pagerduty',
    attempts: 1,
    created_at: new Date(),
    payload: {
      action,
      text: 'OPENED (critical) incident #7 freshness: shop.raw.inventory: newest loaded_at is 1h old',
      incident: { id: '7', dedupKey: 'pipewarden/7/freshness:shop.raw.inventory', check: 'freshness:shop.raw.inventory', kind: 'freshness', asset: 'shop.raw.inventory', severity: 'critical', owner, openedAt: '2025-06-02T08:00:00.000Z' },
      finding: { check: 'freshness:shop.raw.inventory', kind: 'freshness', asset: 'shop.raw.inventory', status: 'fail', observed: 3600, expected: { low: null, high: 600 }, message: 'newest loaded_at is 1h old' },
    },
  };
}

function recordingClient() {
  const sent: PagerDutyEventBody[] = [];
  return { sent, send: async (event: PagerDutyEventBody) => (sent.push(event), { status: 'delivered' as const }) };
}

describe('pagerDutyDeliverer', () => {
  it('sends to the owner\'s key, else the default key, with the evidence and a link back', async () => {
    const client = recordingClient();
    const deliver = pagerDutyDeliverer(client, config);
    expect(await deliver(item('inventory'))).toEqual({ status: 'delivered' });
    expect(await deliver(item('analytics'))).toEqual({ status: 'delivered' });
    expect(client.sent.map((event) => event.routing_key)).toEqual(['key-inventory', 'key-default']);
    expect(client.sent[0]).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'pipewarden/7/freshness:shop.raw.inventory',
      links: [{ href: 'https://grafana.example.com/d/pipewarden' }],
      payload: { severity: 'critical', source: 'shop.raw.inventory', class: 'freshness', custom_details: { evidence: { observed: 3600, expected: { high: 600 } } } },
    });
  });

  it('dead-letters an item nobody can be paged for, saying what to set', async () => {
    const withoutDefault = daemonConfig('postgres://state@127.0.0.1:1/state', { shop: 'postgres://x@127.0.0.1:1/shop' }, { owners: { analytics: { slack: '#a' } } });
    const outcome = await pagerDutyDeliverer(recordingClient(), withoutDefault)(item('analytics'));
    expect(outcome).toEqual({ status: 'dead', reason: 'no PagerDuty routing key for owner analytics: set owners.<owner>.pagerduty or pagerduty.routing_key' });
  });

  it('holds events back past 100 a minute per routing key, and lets them go once the minute has room', async () => {
    let now = Date.parse('2025-06-02T08:00:00Z');
    const client = recordingClient();
    const deliver = pagerDutyDeliverer(client, config, () => new Date(now));
    for (let n = 0; n < 100; n += 1) expect((await deliver(item('inventory'))).status).toBe('delivered');
    const held = await deliver(item('inventory'));
    expect(held).toMatchObject({ status: 'retry', retryAfterMs: 60_000 });
    expect((await deliver(item('analytics'))).status).toBe('delivered');
    now += 60_001;
    expect((await deliver(item('inventory'))).status).toBe('delivered');
    expect(client.sent).toHaveLength(102);
  });
});
