// How the Slack app is reached: the daemon mounts the signed `/slack/*` routes on its one HTTP
// server when a signing secret is configured, and builds Bolt's Socket Mode receiver (and no
// routes) when an app token is; Socket Mode is not connected here (no network to Slack).

import { SocketModeReceiver } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackApp, slackAppWanted } from '../../src/chat/slack-app.ts';
import { HttpSlackReceiver, SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { HttpServer } from '../../src/http/server.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { slackSchema } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const SECRET = 'daemon-slack-secret';

let state: TestDatabase;
let unreachable: string;

beforeAll(async () => {
  state = await createTestDatabase();
  unreachable = `postgres://reader:secret@127.0.0.1:${await freePort()}/shop`;
});

afterAll(async () => {
  await state?.drop();
});

describe('the daemon with slack.signing_secret', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startDaemon({ config: daemonConfig(state.url, { shop: unreachable }, { slack: { signing_secret: SECRET } }), env: {}, logger: testLogger() });
  });
  afterAll(() => daemon?.stop('test finished'));

  it('serves /pipewarden help on POST /slack/commands, signed, and refuses it unsigned', async () => {
    const body = new URLSearchParams({ command: '/pipewarden', text: 'help', user_id: 'U1', team_id: 'T1', response_url: 'http://127.0.0.1:9/unused' }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const signed = await fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', headers: { ...headers, ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) }, body });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/pipewarden ack ID') });
    const runbooksBody = new URLSearchParams({ command: '/pipewarden', text: 'runbooks', user_id: 'U1', team_id: 'T1', response_url: 'http://127.0.0.1:9/unused' }).toString();
    const runbooks = await fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', headers: { ...headers, ...signSlackRequest(runbooksBody, SECRET, Math.floor(Date.now() / 1000)) }, body: runbooksBody });
    expect(await runbooks.json()).toMatchObject({ text: expect.stringMatching(/^(• \*|No runbooks are loaded)/) });
    const unsigned = await fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', headers, body });
    expect(unsigned.status).toBe(401);
  });
});

describe('the daemon without Slack', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startDaemon({ config: daemonConfig(state.url, { shop: unreachable }), env: {}, logger: testLogger() });
  });
  afterAll(() => daemon?.stop('test finished'));

  it('has no /slack routes', async () => {
    expect((await fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', body: '' })).status).toBe(404);
  });
});

describe('createSlackApp', () => {
  it('builds the Socket Mode receiver when an app token is set, and mounts no routes', () => {
    const config = daemonConfig(state.url, { shop: unreachable }, { slack: { app_token: 'xapp-1-A0-test', bot_token: 'xoxb-test', signing_secret: SECRET } });
    const slack = createSlackApp({ config, pool: state.pool(), logger: testLogger(), now: () => new Date() });
    expect(slack.mode).toBe('socket');
    expect(slack.receiver).toBeInstanceOf(SocketModeReceiver);
    const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
    slack.mount(server);
    // The same path is still free: nothing was mounted on it.
    expect(() => server.route('POST', SLACK_COMMANDS_PATH, () => ({ status: 200 }))).not.toThrow();
  });

  it('builds the HTTP receiver with only a signing secret', () => {
    const config = daemonConfig(state.url, { shop: unreachable }, { slack: { signing_secret: SECRET } });
    const slack = createSlackApp({ config, pool: state.pool(), logger: testLogger(), now: () => new Date() });
    expect(slack.mode).toBe('http');
    expect(slack.receiver).toBeInstanceOf(HttpSlackReceiver);
  });

  it('is not wanted with only a bot token (the outgoing side alone) or empty values', () => {
    expect(slackAppWanted(undefined)).toBe(false);
    expect(slackAppWanted(slackSchema.parse({ bot_token: 'xoxb-test', command: '/pipewarden' }))).toBe(false);
    expect(slackAppWanted(slackSchema.parse({ signing_secret: '', app_token: '', command: '/pipewarden' }))).toBe(false);
    expect(slackAppWanted(slackSchema.parse({ signing_secret: SECRET, command: '/pipewarden' }))).toBe(true);
  });
});
