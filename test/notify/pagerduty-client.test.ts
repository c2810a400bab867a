import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors.ts';
import { PagerDutyClient, parseRetryAfter } from '../../src/notify/pagerduty-client.ts';
import { buildPagerDutyEvent, type PagerDutyEventBody } from '../../src/notify/pagerduty-event.ts';
import { freePort } from '../helpers/free-port.ts';
import { makeSelfSignedCertificate, startPagerDutyTestServer, type PagerDutyTestServer } from '../helpers/pagerduty-server.ts';

const ROUTING_KEY = 'R0UTING0KEY0SECRET0000000000000X';

function triggerEvent(): PagerDutyEventBody {
  return buildPagerDutyEvent({
    action: 'trigger',
    routingKey: ROUTING_KEY,
    incident: { id: '7', dedupKey: 'pipewarden-incident-7', summary: 'analytics.raw.store_inventory is 3 h stale', severity: 'critical' },
    check: { id: 'freshness:analytics.raw.store_inventory', kind: 'freshness' },
    asset: 'analytics.raw.store_inventory',
    evidence: { observed: '3 h', expected: { high: '1 h' } },
  });
}

describe('PagerDutyClient against a real HTTPS server', () => {
  let server: PagerDutyTestServer;
  let client: PagerDutyClient;
  const now = new Date('2026-11-22T09:00:00Z');

  beforeAll(async () => {
    server = await startPagerDutyTestServer();
    client = new PagerDutyClient({ host: server.host, trustedCertificates: [server.certificate.cert], timeoutMs: 1_000, rateLimitPauseMs: 30_000, now: () => now });
  });

  afterAll(async () => {
    client.close();
    await server.stop();
  });

  afterEach(() => server.respondWith([]));

  it('posts the event as JSON to /v2/enqueue and reports 202 as delivered', async () => {
    server.respondWith([{ status: 202 }]);
    const event = triggerEvent();
    expect(await client.send(event)).toEqual({ status: 'delivered' });
    const [request] = await server.waitForRequests(1);
    expect(request).toMatchObject({ method: 'POST', path: '/v2/enqueue', body: event });
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('retries a 429 after its Retry-After, in seconds or as a date, sending it once', async () => {
    server.respondWith([
      { status: 429, headers: { 'retry-after': '7' }, body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly' } },
      { status: 429, headers: { 'retry-after': new Date(now.getTime() + 90_000).toUTCString() } },
    ]);
    const seconds = await client.send(triggerEvent());
    expect(seconds).toEqual({ status: 'retry', retryAfterMs: 7_000, reason: 'PagerDuty answered 429: Requests for this service are arriving too quickly' });
    expect(await client.send(triggerEvent())).toMatchObject({ status: 'retry', retryAfterMs: 90_000 });
    expect(server.requests).toHaveLength(2);
  });

  it('waits PagerDuty’s suggested pause after a 429 without Retry-After', async () => {
    server.respondWith([{ status: 429, body: {} }]);
    expect(await client.send(triggerEvent())).toMatchObject({ status: 'retry', retryAfterMs: 30_000 });
  });

  it('retries 5xx answers, including a proxy’s HTML error page', async () => {
    server.respondWith([{ status: 500, body: { status: 'error' } }, { status: 502, body: '<html>Bad gateway</html>' }, { status: 503 }]);
    for (const status of [500, 502, 503]) {
      expect(await client.send(triggerEvent())).toMatchObject({ status: 'retry', reason: expect.stringContaining(`answered ${status}`) });
    }
  });

  it('works through a scripted outage: 500 twice, 429, then 202', async () => {
    server.respondWith([{ status: 500 }, { status: 500 }, { status: 429, headers: { 'retry-after': '1' } }, { status: 202 }]);
    const outcomes = [];
    for (let attempt = 0; attempt < 4; attempt += 1) outcomes.push((await client.send(triggerEvent())).status);
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'delivered']);
    expect(server.requests).toHaveLength(4);
  });

  it('dead-letters a 400 with PagerDuty’s reason, and never names the routing key', async () => {
    server.respondWith([{ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: [`Routing key ${ROUTING_KEY} is not valid`] } }]);
    const outcome = await client.send(triggerEvent());
    expect(outcome).toEqual({ status: 'dead', reason: 'PagerDuty answered 400: Event object is invalid: Routing key [routing key] is not valid' });
  });

  it('dead-letters other 4xx answers with a hint about the host', async () => {
    server.respondWith([{ status: 404, body: '<html>not here</html>' }]);
    const outcome = await client.send(triggerEvent());
    expect(outcome).toEqual({ status: 'dead', reason: `PagerDuty answered 404; is ${server.host} the Events API v2 host?` });
  });

  it('retries when the server does not answer within the timeout', async () => {
    server.respondWith([{ status: 202, delayMs: 3_000 }]);
    const started = Date.now();
    const outcome = await client.send(triggerEvent());
    expect(outcome).toEqual({ status: 'retry', reason: `PagerDuty (${server.host}) did not answer within 1000 ms` });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('retries when nothing listens, without the routing key in the reason', async () => {
    const port = await freePort();
    const closed = new PagerDutyClient({ host: `127.0.0.1:${port}`, timeoutMs: 1_000 });
    const outcome = await closed.send(triggerEvent());
    closed.close();
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(outcome)).not.toContain(ROUTING_KEY);
  });

  it('refuses a server whose certificate it does not trust, sending nothing', async () => {
    server.respondWith([]);
    const defaultTrust = new PagerDutyClient({ host: server.host, timeoutMs: 1_000 });
    const otherCa = new PagerDutyClient({ host: server.host, timeoutMs: 1_000, trustedCertificates: [makeSelfSignedCertificate().cert] });
    for (const untrusting of [defaultTrust, otherCa]) {
      const outcome = await untrusting.send(triggerEvent());
      untrusting.close();
      expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringMatching(/certificate/i) });
      expect(JSON.stringify(outcome)).not.toContain(ROUTING_KEY);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a trusted certificate issued for another name', async () => {
    server.respondWith([]);
    const wrongName = new PagerDutyClient({ host: server.host.replace('127.0.0.1', 'localhost'), timeoutMs: 1_000, trustedCertificates: [server.certificate.cert] });
    const outcome = await wrongName.send(triggerEvent());
    wrongName.close();
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
    expect(server.requests).toHaveLength(0);
  });
});

describe('PagerDutyClient options', () => {
  it('refuses an events host that is a URL rather than a host', () => {
    for (const host of ['https://events.pagerduty.com', 'events.pagerduty.com/v2/enqueue', '', 'user@events.pagerduty.com']) {
      expect(() => new PagerDutyClient({ host })).toThrow(DeliveryError);
    }
    const client = new PagerDutyClient({ host: 'events.eu.pagerduty.com:443' });
    expect(client.url).toBe('https://events.eu.pagerduty.com:443/v2/enqueue');
    client.close();
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-22T09:00:00Z');

  it('reads delay-seconds and HTTP dates, never negative, and ignores nonsense', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
