// PagerDuty → pipewarden on a real state database: acknowledge, resolve and reopen from PagerDuty
// reach the incident with that dedup key once; a repeated event id changes nothing; nothing is
// sent back to PagerDuty, while the console hears about it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { syncPagerDutyChange } from '../../src/incidents/pagerduty-sync.ts';
import { fitDedupKey } from '../../src/notify/pagerduty-event.ts';
import type { FindingStatus } from '../../src/types.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const T0 = new Date('2025-06-02T08:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

let state: TestDatabase;

beforeAll(async () => {
  state = await createTestDatabase();
});

afterAll(async () => {
  await state?.drop();
});

const config = () =>
  daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
    monitors: [{ assets: 'shop.*', owner: 'inventory', freshness: true }],
    owners: { inventory: { pagerduty: 'routing-key' } },
  });

async function openIncident(asset: string): Promise<{ id: string; dedupKey: string }> {
  const status: FindingStatus = 'fail';
  await applyFindings(state.pool(), config(), [{ check: `freshness:${asset}`, kind: 'freshness', asset, status, observed: 1, message: `${asset} is stale` }], at(0));
  const { rows } = await state.pool().query<{ id: string; dedup_key: string }>("SELECT id, dedup_key FROM incidents WHERE asset = $1 AND status <> 'resolved'", [asset]);
  return { id: String(rows[0]?.id), dedupKey: rows[0]?.dedup_key as string };
}

async function incident(id: string) {
  const { rows } = await state.pool().query<{ status: string; acknowledged_by: string | null; resolved_by: string | null }>('SELECT status, acknowledged_by, resolved_by FROM incidents WHERE id = $1', [id]);
  return rows[0];
}

async function outbox(id: string): Promise<string[]> {
  const { rows } = await state.pool().query<{ item: string }>("SELECT channel || ':' || (payload->>'change') AS item FROM outbox WHERE incident_id = $1 ORDER BY id", [id]);
  return rows.map((row) => row.item);
}

describe('syncPagerDutyChange', () => {
  it('acknowledges, resolves and reopens the incident with that dedup key, telling the console but not PagerDuty', async () => {
    const { id, dedupKey } = await openIncident('shop.orders');
    const sync = (eventId: string, type: 'incident.acknowledged' | 'incident.resolved' | 'incident.reopened', minute: number) =>
      syncPagerDutyChange(state.pool(), config(), { eventId, type, dedupKey, agent: 'Ana (PagerDuty)' }, at(minute));

    expect(await sync('ev-1', 'incident.acknowledged', 1)).toBe('applied');
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledged_by: 'Ana (PagerDuty)' });
    expect(await sync('ev-2', 'incident.reopened', 2)).toBe('applied');
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(await sync('ev-3', 'incident.resolved', 3)).toBe('applied');
    expect(await incident(id)).toMatchObject({ status: 'resolved', resolved_by: 'Ana (PagerDuty)' });
    expect(await sync('ev-4', 'incident.reopened', 4)).toBe('applied');
    expect(await incident(id)).toMatchObject({ status: 'open' });
    const { rows } = await state.pool().query<{ incident_id: string }>("SELECT incident_id FROM check_tracking WHERE check_id = 'freshness:shop.orders'");
    expect(String(rows[0]?.incident_id)).toBe(id);

    expect(await outbox(id)).toEqual(['console:opened', 'pagerduty:opened', 'console:acknowledged', 'console:reopened', 'console:resolved_by_hand', 'console:reopened']);
  });

  it('applies an event id once: a retry or a replay changes nothing', async () => {
    const { id, dedupKey } = await openIncident('shop.stock');
    const event = { eventId: 'ev-replayed', type: 'incident.acknowledged' as const, dedupKey, agent: 'Ben' };
    expect(await syncPagerDutyChange(state.pool(), config(), event, at(1))).toBe('applied');
    await syncPagerDutyChange(state.pool(), config(), { ...event, eventId: 'ev-reopen', type: 'incident.reopened' }, at(2));
    expect(await syncPagerDutyChange(state.pool(), config(), event, at(3))).toBe('duplicate');
    expect(await incident(id)).toMatchObject({ status: 'open' });
  });

  it('finds an incident whose key PagerDuty received shortened', async () => {
    const asset = `shop.${'a_very_long_table_name_'.repeat(12)}`;
    const { id, dedupKey } = await openIncident(asset);
    expect(dedupKey.length).toBeGreaterThan(255);
    const shortened = fitDedupKey(dedupKey);
    expect(await syncPagerDutyChange(state.pool(), config(), { eventId: 'ev-long', type: 'incident.acknowledged', dedupKey: shortened, agent: 'Ana' }, at(1))).toBe('applied');
    expect(await incident(id)).toMatchObject({ status: 'acknowledged' });
  });

  it('records but ignores events about incidents it does not know', async () => {
    expect(await syncPagerDutyChange(state.pool(), config(), { eventId: 'ev-foreign', type: 'incident.resolved', dedupKey: 'someone-elses-key', agent: undefined }, at(1))).toBe('unknown_incident');
    expect(await syncPagerDutyChange(state.pool(), config(), { eventId: 'ev-foreign', type: 'incident.resolved', dedupKey: 'someone-elses-key', agent: undefined }, at(1))).toBe('duplicate');
  });

  it('does not reopen a resolved incident when its check already has a newer one', async () => {
    const first = await openIncident('shop.prices');
    await syncPagerDutyChange(state.pool(), config(), { eventId: 'ev-p1', type: 'incident.resolved', dedupKey: first.dedupKey, agent: 'Ana' }, at(1));
    // The check fails again after its pending period (resolving by hand restarted it).
    await applyFindings(state.pool(), config(), [{ check: 'freshness:shop.prices', kind: 'freshness', asset: 'shop.prices', status: 'fail', observed: 1, message: 'stale' }], at(2));
    const { rows } = await state.pool().query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE check_id = 'freshness:shop.prices' AND status <> 'resolved'");
    expect(rows[0]?.n).toBe(1);
    expect(await syncPagerDutyChange(state.pool(), config(), { eventId: 'ev-p2', type: 'incident.reopened', dedupKey: first.dedupKey, agent: 'Ana' }, at(3))).toBe('unchanged');
    expect(await incident(first.id)).toMatchObject({ status: 'resolved' });
  });
});
