// The receiver on its own, with a bare Bolt app: a listener that never acknowledges still gets
// Slack its 200 before Slack's 3 s, and signature checks hold at the 5-minute edges.

import { App } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_DEADLINE_MS, HttpSlackReceiver, SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { MAX_CLOCK_SKEW_SECONDS, signSlackRequest, verifySlackSignature } from '../../src/chat/slack-signature.ts';
import { SignatureError } from '../../src/errors.ts';
import { HttpServer } from '../../src/http/server.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';

const SECRET = 'receiver-secret';
const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
let listenerFinished = false;

beforeAll(async () => {
  const receiver = new HttpSlackReceiver({ signingSecret: SECRET, logger: testLogger() });
  const app = new App({ receiver, authorize: () => Promise.resolve({}) });
  app.command('/slow', async () => {
    // Never acks: takes longer than Slack waits.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    listenerFinished = true;
  });
  receiver.mount(server);
  await server.listen();
});

afterAll(() => server.close(5_000));

describe('HttpSlackReceiver', () => {
  it('answers 200 within 3 s even when the listener never acknowledges', async () => {
    const body = new URLSearchParams({ command: '/slow', text: '', user_id: 'U1', team_id: 'T1', response_url: 'http://127.0.0.1:9/unused' }).toString();
    const started = performance.now();
    const response = await fetch(`${server.url}${SLACK_COMMANDS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) },
      body,
    });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(ACK_DEADLINE_MS - 50);
    expect(elapsed).toBeLessThan(3_000);
    expect(listenerFinished).toBe(false);
  });

  it('refuses a body that is neither form nor JSON with 400 once signed', async () => {
    const body = '{not json';
    const response = await fetch(`${server.url}${SLACK_COMMANDS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) },
      body,
    });
    expect(response.status).toBe(400);
  });
});

describe('verifySlackSignature', () => {
  const now = Date.UTC(2026, 11, 4, 23, 0, 0);
  const seconds = now / 1000;
  const body = Buffer.from('command=%2Fpipewarden&text=help');
  const check = (headers: Record<string, string>) => verifySlackSignature(body, headers, SECRET, now).status;

  it('accepts exactly 5 minutes off either way and refuses one second more', () => {
    expect(check(signSlackRequest(body, SECRET, seconds - MAX_CLOCK_SKEW_SECONDS))).toBe('valid');
    expect(check(signSlackRequest(body, SECRET, seconds + MAX_CLOCK_SKEW_SECONDS))).toBe('valid');
    expect(check(signSlackRequest(body, SECRET, seconds - MAX_CLOCK_SKEW_SECONDS - 1))).toBe('stale');
    expect(check(signSlackRequest(body, SECRET, seconds + MAX_CLOCK_SKEW_SECONDS + 1))).toBe('future');
  });

  it('tells missing, malformed and mismatched headers apart', () => {
    const valid = signSlackRequest(body, SECRET, seconds);
    expect(check({})).toBe('missing');
    expect(check({ 'x-slack-signature': valid['x-slack-signature'] as string })).toBe('missing');
    expect(check({ ...valid, 'x-slack-request-timestamp': 'soon' })).toBe('malformed');
    expect(check({ ...valid, 'x-slack-signature': 'v1=abc' })).toBe('malformed');
    expect(check({ ...valid, 'x-slack-signature': `v0=${'0'.repeat(64)}` })).toBe('mismatch');
    expect(check(signSlackRequest(body, 'other', seconds))).toBe('mismatch');
  });

  it('throws a SignatureError when no secret is configured', () => {
    expect(() => verifySlackSignature(body, {}, '', now)).toThrow(SignatureError);
  });
});
