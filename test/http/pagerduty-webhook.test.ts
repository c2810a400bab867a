import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPagerDutyBody } from '../../src/http/pagerduty-signature.ts';
import { parsePagerDutyWebhook, type PagerDutyIncidentEvent } from '../../src/http/pagerduty-webhook.ts';
import { mountPagerDutyWebhook, PAGERDUTY_WEBHOOK_PATH } from '../../src/http/pagerduty-webhook-route.ts';
import { HttpServer } from '../../src/http/server.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';

const SECRET = 'whsec-test-secret';

function webhook(eventType: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event: {
      id: '5ac64822-4adc-4fda-ade0-410becf0de4f',
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: '2026-11-22T08:45:22.169Z',
      agent: { html_url: 'https://acme.pagerduty.com/users/PLH1HKV', id: 'PLH1HKV', self: 'https://api.pagerduty.com/users/PLH1HKV', summary: 'Ada On-Call', type: 'user_reference' },
      client: { name: 'PagerDuty' },
      data: {
        id: 'PGR0VU2',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/PGR0VU2',
        html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        number: 2,
        status: 'acknowledged',
        incident_key: 'pipewarden-incident-42',
        title: 'analytics.public.orders: 12 rows in the last hour',
        resolve_reason: null,
      },
      ...overrides,
    },
  };
}

describe('parsePagerDutyWebhook', () => {
  it('reads the event id, type, time, agent and the incident key of a synced event', () => {
    for (const type of ['incident.acknowledged', 'incident.resolved', 'incident.reopened']) {
      const parsed = parsePagerDutyWebhook(Buffer.from(JSON.stringify(webhook(type))));
      expect(parsed).toEqual({
        ok: true,
        event: {
          kind: 'incident',
          id: '5ac64822-4adc-4fda-ade0-410becf0de4f',
          type,
          occurredAt: new Date('2026-11-22T08:45:22.169Z'),
          agent: { id: 'PLH1HKV', type: 'user_reference', summary: 'Ada On-Call' },
          incident: { id: 'PGR0VU2', incidentKey: 'pipewarden-incident-42', status: 'acknowledged', htmlUrl: 'https://acme.pagerduty.com/incidents/PGR0VU2' },
        },
      });
    }
  });

  it('accepts a null agent and a missing incident key (an incident opened in PagerDuty by hand)', () => {
    const body = webhook('incident.resolved', { agent: null });
    delete (body.event as { data: Record<string, unknown> }).data.incident_key;
    const parsed = parsePagerDutyWebhook(Buffer.from(JSON.stringify(body)));
    expect(parsed).toMatchObject({ ok: true, event: { agent: null, incident: { incidentKey: null } } });
  });

  it('reports other event types as ignored', () => {
    const parsed = parsePagerDutyWebhook(Buffer.from(JSON.stringify(webhook('service.updated', { data: { id: 'PF9KMXH', type: 'service' } }))));
    expect(parsed).toEqual({ ok: true, event: { kind: 'ignored', id: '5ac64822-4adc-4fda-ade0-410becf0de4f', type: 'service.updated', occurredAt: new Date('2026-11-22T08:45:22.169Z') } });
  });

  it('refuses what is not a v3 envelope, or a synced type without incident data', () => {
    expect(parsePagerDutyWebhook(Buffer.from('not json'))).toEqual({ ok: false, problem: 'the body is not JSON' });
    expect(parsePagerDutyWebhook(Buffer.from('{"messages":[]}'))).toMatchObject({ ok: false, problem: expect.stringContaining('event') });
    expect(parsePagerDutyWebhook(Buffer.from(JSON.stringify(webhook('incident.resolved', { occurred_at: 'yesterday' }))))).toMatchObject({ ok: false, problem: expect.stringContaining('occurred_at') });
    expect(parsePagerDutyWebhook(Buffer.from(JSON.stringify(webhook('incident.resolved', { data: { id: 'X', type: 'incident_note' } }))))).toMatchObject({ ok: false, problem: expect.stringContaining('data') });
  });
});

describe(`POST ${PAGERDUTY_WEBHOOK_PATH} through a real HTTP request`, () => {
  const received: PagerDutyIncidentEvent[] = [];
  let failNext = false;
  const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
  const unconfigured = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
  const unconfiguredLog: string[] = [];
  let url: string;
  let unconfiguredUrl: string;

  beforeAll(async () => {
    mountPagerDutyWebhook(server, {
      secrets: ['whsec-retired', SECRET],
      logger: testLogger(),
      maxBodyBytes: 4 * 1024,
      onEvent: (event) => {
        if (failNext) {
          failNext = false;
          throw new Error('state database unavailable');
        }
        received.push(event);
      },
    });
    const lines = new Writable({ write: (chunk: Buffer, _encoding, done) => (unconfiguredLog.push(chunk.toString()), done()) });
    mountPagerDutyWebhook(unconfigured, { secrets: [], logger: pino(lines), onEvent: (event) => void received.push(event) });
    url = `${await server.listen()}${PAGERDUTY_WEBHOOK_PATH}`;
    unconfiguredUrl = `${await unconfigured.listen()}${PAGERDUTY_WEBHOOK_PATH}`;
  });

  afterAll(async () => {
    await server.close(1_000);
    await unconfigured.close(1_000);
  });

  beforeEach(() => {
    received.length = 0;
  });

  function post(target: string, body: string, signature?: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature !== undefined) headers['x-pagerduty-signature'] = signature;
    return fetch(target, { method: 'POST', body, headers });
  }

  it('hands a correctly signed event to the callback exactly once and answers 202', async () => {
    const body = JSON.stringify(webhook('incident.acknowledged'));
    const response = await post(url, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'accepted' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ id: '5ac64822-4adc-4fda-ade0-410becf0de4f', type: 'incident.acknowledged', incident: { incidentKey: 'pipewarden-incident-42' } });
  });

  it('refuses unsigned, forged and tampered requests with 401 before the callback', async () => {
    const body = JSON.stringify(webhook('incident.resolved'));
    const tampered = body.replace('Ada On-Call', 'Mallory');
    const attempts = [post(url, body), post(url, body, signPagerDutyBody(body, ['guessed-secret'])), post(url, tampered, signPagerDutyBody(body, [SECRET])), post(url, body, 'v1=nothex')];
    const responses = await Promise.all(attempts);
    expect(responses.map((response) => response.status)).toEqual([401, 401, 401, 401]);
    expect(await responses[0]?.json()).toMatchObject({ error: { code: 'signature_missing' } });
    expect(received).toEqual([]);
  });

  it('answers 400 to a signed body that is not a webhooks v3 event', async () => {
    const body = '{"messages":[{"event":"incident.trigger"}]}';
    const response = await post(url, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_webhook' } });
    expect(received).toEqual([]);
  });

  it('answers 413 to a body over the limit, signed or not', async () => {
    const body = JSON.stringify(webhook('incident.resolved', { padding: 'x'.repeat(5 * 1024) }));
    const response = await post(url, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(413);
    expect(received).toEqual([]);
  });

  it('acknowledges event types pipewarden does not sync without calling back', async () => {
    const body = JSON.stringify(webhook('incident.annotated', { data: { id: 'P2LA89X', type: 'incident_note' } }));
    const response = await post(url, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'ignored' });
    expect(received).toEqual([]);
  });

  it('answers 503 when the callback fails, so PagerDuty redelivers', async () => {
    failNext = true;
    const body = JSON.stringify(webhook('incident.reopened'));
    const response = await post(url, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(503);
    expect(received).toEqual([]);
  });

  it('refuses everything with 401 while no secret is configured, and logs what to set', async () => {
    const body = JSON.stringify(webhook('incident.acknowledged'));
    const response = await post(unconfiguredUrl, body, signPagerDutyBody(body, [SECRET]));
    expect(response.status).toBe(401);
    expect(received).toEqual([]);
    expect(unconfiguredLog.join('')).toContain('set pagerduty.webhook_secrets');
  });
});
