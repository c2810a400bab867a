// Paging end to end, in one daemon: a real warehouse whose feed goes stale, sweeps every second,
// the incident lifecycle, the outbox and a real HTTPS PagerDuty server on loopback (self-signed,
// trusted through pagerduty.ca_file). The server answers 500, 500, 429 before it accepts: the
// trigger still arrives once, after the pending period, and the resolve after it. Then PagerDuty's
// webhooks: forged and unsigned ones are refused and change nothing; a signed acknowledgement
// acknowledges the incident once, however often it is replayed.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPagerDutyBody } from '../../src/http/pagerduty-signature.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { startPagerDutyTestServer, type PagerDutyTestServer, type RecordedRequest } from '../helpers/pagerduty-server.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const SECRET = 'whsec-paging-test';
const ROUTING_KEY = 'R0UTING-KEY-inventory';
const CHECK = 'freshness:shop.raw.inventory';

let state: TestDatabase;
let warehouse: TestDatabase;
let pagerduty: PagerDutyTestServer;
let daemon: RunningDaemon;
let dir: string;

/** What the server took: everything after the three answers it refused. */
const acceptedRequests = (requests: readonly RecordedRequest[]) => requests.slice(3);
const eventOf = (request: RecordedRequest) => request.body as { event_action: string; dedup_key: string; routing_key: string; payload?: { severity: string; summary: string } };

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  // The feed's newest row is an hour old: freshness fails from the first sweep.
  await warehouse.pool().query("create schema raw; create table raw.inventory (id int, loaded_at timestamptz); insert into raw.inventory values (1, now() - interval '1 hour')");
  pagerduty = await startPagerDutyTestServer();
  pagerduty.respondWith([{ status: 500 }, { status: 500, body: 'upstream trouble' }, { status: 429, headers: { 'Retry-After': '1' } }]);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-paging-'));
  await writeFile(path.join(dir, 'ca.pem'), pagerduty.certificate.cert);
  const config = daemonConfig(state.url, { shop: warehouse.url }, {
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *' },
    monitors: [{ assets: 'shop.raw.inventory', owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: { inventory: { pagerduty: ROUTING_KEY } },
    pagerduty: { events_host: pagerduty.host, ca_file: path.join(dir, 'ca.pem'), webhook_secrets: [SECRET] },
    incidents: { pending: { fail: 2, warn: 2, error: 3 }, resolve_after: 2 },
  });
  daemon = await startDaemon({ config, env: {}, logger: testLogger() });
}, 30_000);

afterAll(async () => {
  await daemon?.stop('test finished');
  await pagerduty?.stop();
  await Promise.all([state?.drop(), warehouse?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('paging through PagerDuty', () => {
  it('triggers once after the pending period, through 500s and a 429, and resolves after recovery', async () => {
    const attempts = await pagerduty.waitForRequests(4, 30_000);
    expect(attempts.map((request) => eventOf(request).event_action)).toEqual(['trigger', 'trigger', 'trigger', 'trigger']);
    const trigger = eventOf(attempts[3] as RecordedRequest);
    expect(trigger).toMatchObject({ routing_key: ROUTING_KEY, payload: { severity: 'critical' } });
    expect(trigger.payload?.summary).toMatch(/^OPENED \(critical\) incident #\d+ freshness: shop\.raw\.inventory: newest loaded_at is 1h/);
    // The 429 asked for a second's pause, and got at least that.
    expect((attempts[3] as RecordedRequest).receivedAt.getTime() - (attempts[2] as RecordedRequest).receivedAt.getTime()).toBeGreaterThanOrEqual(1_000);

    // Opened after the second failing sweep, not the first.
    const { rows: incidents } = await state.pool().query<{ id: string; dedup_key: string; opened_at: Date; paged_at: Date }>('SELECT id, dedup_key, opened_at, paged_at FROM pipewarden.incidents WHERE check_id = $1', [CHECK]);
    expect(incidents).toHaveLength(1);
    expect(trigger.dedup_key).toBe(incidents[0]?.dedup_key);
    const { rows: firstFail } = await state.pool().query<{ at: Date }>("SELECT min(evaluated_at) AS at FROM pipewarden.findings WHERE check_id = $1 AND status = 'fail'", [CHECK]);
    expect(incidents[0]?.opened_at.getTime()).toBeGreaterThan(firstFail[0]?.at.getTime() as number);

    const active = async () => (await daemon.metrics.incidentsActive.get()).values.map((value) => [value.labels.severity, value.labels.status, value.value]);
    await waitUntil(async () => ((await active()).length > 0 ? true : undefined), 5_000, 'pipewarden_incidents_active');
    expect(await active()).toEqual([['critical', 'open', 1]]);
    expect((await daemon.metrics.incidentsOpened.get()).values).toEqual([{ labels: { severity: 'critical' }, value: 1 }]);

    // The feed recovers: two passing sweeps resolve the incident and PagerDuty hears it once.
    await warehouse.pool().query('insert into raw.inventory values (2, now() + interval \'1 hour\')');
    const all = await waitUntil(async () => (pagerduty.requests.length >= 5 ? pagerduty.requests : undefined), 20_000, 'the resolve');
    await sleep(2_500);
    const events = acceptedRequests(pagerduty.requests).map(eventOf);
    expect(events.map((event) => event.event_action)).toEqual(['trigger', 'resolve']);
    expect(new Set(events.map((event) => event.dedup_key))).toEqual(new Set([trigger.dedup_key]));
    expect(all.length).toBe(5);
    expect(await active()).toEqual([]);
    const { rows: outbox } = await state.pool().query<{ channel: string; status: string; attempts: number }>('SELECT channel, status, attempts FROM pipewarden.outbox WHERE channel = $1 ORDER BY id', ['pagerduty']);
    expect(outbox).toEqual([
      { channel: 'pagerduty', status: 'delivered', attempts: 4 },
      { channel: 'pagerduty', status: 'delivered', attempts: 1 },
    ]);
  }, 60_000);

  it('refuses forged and unsigned webhooks, and applies a signed one once however often it is replayed', async () => {
    const { rows } = await state.pool().query<{ id: string; dedup_key: string }>('SELECT id, dedup_key FROM pipewarden.incidents WHERE check_id = $1', [CHECK]);
    const { id, dedup_key: dedupKey } = rows[0] as { id: string; dedup_key: string };
    const body = JSON.stringify({
      event: {
        id: 'evt-0001',
        event_type: 'incident.reopened',
        resource_type: 'incident',
        occurred_at: new Date().toISOString(),
        agent: { id: 'PUSER1', type: 'user_reference', summary: 'Ada On-Call' },
        data: { id: 'PINC1', type: 'incident', status: 'triggered', incident_key: dedupKey },
      },
    });
    const post = (headers: Record<string, string>, text = body) =>
      fetch(`${daemon.httpUrl}/webhooks/pagerduty`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
    const status = async () => (await state.pool().query<{ status: string }>('SELECT status FROM pipewarden.incidents WHERE id = $1', [id])).rows[0]?.status;

    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-pagerduty-signature': signPagerDutyBody(body, ['not-the-secret']) })).status).toBe(401);
    const tampered = body.replace('Ada On-Call', 'Mallory');
    expect((await post({ 'x-pagerduty-signature': signPagerDutyBody(body, [SECRET]) }, tampered)).status).toBe(401);
    expect(await status()).toBe('resolved');

    const signed = { 'x-pagerduty-signature': signPagerDutyBody(body, [SECRET]) };
    expect((await post(signed)).status).toBe(202);
    expect(await status()).toBe('open');
    // Resolved again by hand in pipewarden; a replay of the captured reopen must not undo that.
    await state.pool().query("UPDATE pipewarden.incidents SET status = 'resolved' WHERE id = $1", [id]);
    expect((await post(signed)).status).toBe(202);
    expect(await status()).toBe('resolved');
    const { rows: reopened } = await state.pool().query<{ n: number }>("SELECT count(*)::int AS n FROM pipewarden.incident_events WHERE incident_id = $1 AND type = 'reopened'", [id]);
    expect(reopened[0]?.n).toBe(1);
  });
});
