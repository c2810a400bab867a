// The Slack app over real HTTP: requests signed with the configured secret reach pipewarden's one
// HTTP server on 127.0.0.1; forged, unsigned, stale and future-dated ones get 401 and change
// nothing; slash commands answer in the acknowledgement (help, usage) or through `response_url`
// (a recording loopback server) for work on the real state database.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackApp } from '../../src/chat/slack-app.ts';
import { SLACK_ACTIONS_PATH, SLACK_COMMANDS_PATH, SLACK_EVENTS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { SUBCOMMAND_NAMES } from '../../src/chat/slash-command.ts';
import { HttpServer } from '../../src/http/server.ts';
import { ACTIONS } from '../../src/runbooks/actions/registry.ts';
import { loadRunbooksOrThrow } from '../../src/runbooks/load-runbooks.ts';
import type { LoadedRunbook } from '../../src/runbooks/loaded-runbook.ts';
import { selectIncidentTimeline } from '../../src/store/incident-records.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { openTestIncident } from '../helpers/slack-requests.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { RecordingHttpServer } from '../helpers/recording-http-server.ts';

const SECRET = 'slack-signing-secret-for-tests';
const USER = 'U0TESTER1';

let state: TestDatabase;
let server: HttpServer;
let slack: SlackApp;
const responseUrl = new RecordingHttpServer();
const slackApi = new RecordingHttpServer();

const config = () =>
  daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
    monitors: [{ assets: 'shop.*', owner: 'inventory', freshness: true }],
    owners: { inventory: {} },
    slack: { signing_secret: SECRET, bot_token: 'xoxb-test', api_url: `${slackApi.url}/api/`, roles: { [USER]: 'responder' } },
  });

beforeAll(async () => {
  state = await createTestDatabase();
  await responseUrl.start();
  await slackApi.start();
  server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
  const runbooks: readonly LoadedRunbook[] = await loadRunbooksOrThrow(new URL('../../runbooks', import.meta.url).pathname, ACTIONS);
  slack = createSlackApp({ config: config(), pool: state.pool(), logger: testLogger(), now: () => new Date(), runbooks: () => runbooks });
  slack.mount(server);
  await server.listen();
});

afterAll(async () => {
  await server?.close(1_000);
  await responseUrl.stop();
  await slackApi.stop();
  await state?.drop();
});

beforeEach(() => {
  responseUrl.requests.length = 0;
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface Sent {
  status: number;
  text: string;
  json: unknown;
  ms: number;
}

async function post(path: string, body: string, contentType: string, headers: Record<string, string>): Promise<Sent> {
  const started = performance.now();
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, ms: performance.now() - started };
}

function commandBody(text: string): string {
  return new URLSearchParams({
    token: 'deprecated',
    team_id: 'T0TEAM',
    team_domain: 'acme',
    channel_id: 'C0CHAN',
    channel_name: 'inventory-data',
    user_id: USER,
    user_name: 'tester',
    command: '/pipewarden',
    text,
    api_app_id: 'A0APP',
    response_url: `${responseUrl.url}/commands/T0TEAM/1/abc`,
    trigger_id: '1.2.3',
  }).toString();
}

type Signing = 'valid' | 'forged' | 'unsigned' | 'stale' | 'future';

function headersFor(body: string, signing: Signing): Record<string, string> {
  switch (signing) {
    case 'valid':
      return signSlackRequest(body, SECRET, nowSeconds());
    case 'forged':
      return signSlackRequest(body, 'not-the-secret', nowSeconds());
    case 'unsigned':
      return {};
    case 'stale':
      return signSlackRequest(body, SECRET, nowSeconds() - 6 * 60);
    case 'future':
      return signSlackRequest(body, SECRET, nowSeconds() + 6 * 60);
  }
}

function command(text: string, signing: Signing = 'valid'): Promise<Sent> {
  const body = commandBody(text);
  return post(SLACK_COMMANDS_PATH, body, 'application/x-www-form-urlencoded', headersFor(body, signing));
}

function openIncident(asset: string): Promise<string> {
  return openTestIncident(state.pool(), config(), asset);
}

async function incident(id: string) {
  const { rows } = await state.pool().query<{ status: string; acknowledged_by: string | null; resolved_by: string | null }>('SELECT status, acknowledged_by, resolved_by FROM incidents WHERE id = $1', [id]);
  return rows[0];
}

describe('Slack request signatures', () => {
  it.each(['forged', 'unsigned', 'stale', 'future'] as const)('refuses a %s request with 401, and the command does not run', async (signing) => {
    const id = await openIncident(`shop.${signing}`);
    const sent = await command(`ack ${id}`, signing);
    expect(sent.status).toBe(401);
    expect(sent.json).toMatchObject({ error: { code: expect.stringMatching(/^signature_/) } });
    // Give a wrongly run command time to land before checking that nothing changed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(responseUrl.requests).toHaveLength(0);
  });

  it('refuses a tampered body signed for another body', async () => {
    const body = commandBody('help');
    const sent = await post(SLACK_COMMANDS_PATH, commandBody('incidents'), 'application/x-www-form-urlencoded', headersFor(body, 'valid'));
    expect(sent.status).toBe(401);
  });

  it('refuses unsigned events and button payloads too', async () => {
    const event = JSON.stringify({ type: 'url_verification', challenge: 'abc' });
    expect((await post(SLACK_EVENTS_PATH, event, 'application/json', {})).status).toBe(401);
    const action = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [] }))}`;
    expect((await post(SLACK_ACTIONS_PATH, action, 'application/x-www-form-urlencoded', headersFor(action, 'forged'))).status).toBe(401);
  });
});

describe('Slack events', () => {
  it('answers url_verification with the challenge when signed', async () => {
    const body = JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    const sent = await post(SLACK_EVENTS_PATH, body, 'application/json', headersFor(body, 'valid'));
    expect(sent.status).toBe(200);
    expect(sent.json).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('acknowledges a signed button payload no listener takes yet with an empty 200', async () => {
    const payload = { type: 'block_actions', user: { id: USER }, team: { id: 'T0TEAM' }, api_app_id: 'A0APP', actions: [{ action_id: 'nothing', type: 'button', value: 'x' }], response_url: `${responseUrl.url}/actions/1` };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const sent = await post(SLACK_ACTIONS_PATH, body, 'application/x-www-form-urlencoded', headersFor(body, 'valid'));
    expect(sent.status).toBe(200);
    expect(sent.text).toBe('');
  });
});

describe('/pipewarden', () => {
  it('help lists every subcommand, ephemerally, in the acknowledgement', async () => {
    const sent = await command('help');
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ response_type: 'ephemeral' });
    const text = (sent.json as { text: string }).text;
    for (const name of ['help', 'status', 'incidents', 'ack', 'resolve', 'silence', 'unsilence', 'runbooks', 'run', 'explain', 'expected']) {
      expect(text).toMatch(new RegExp(`\`/pipewarden ${name}[\` ]`));
    }
    expect(SUBCOMMAND_NAMES).toHaveLength(11);
  });

  it('an unknown subcommand or bad arguments get a usage message, not a stack trace', async () => {
    const unknown = await command('frobnicate now');
    expect(unknown.json).toEqual({ response_type: 'ephemeral', text: 'unknown subcommand `frobnicate`. `/pipewarden help` lists the subcommands.' });
    const noId = await command('ack');
    expect(noId.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Usage: `/pipewarden ack ID`') });
    const badId = await command('resolve "12; drop table incidents"');
    expect(badId.json).toMatchObject({ text: expect.stringContaining('Usage: `/pipewarden resolve ID`') });
    const openQuote = await command('silence "analytics.raw.* 2h');
    expect(openQuote.json).toMatchObject({ text: expect.stringContaining('quote is not closed') });
    for (const sent of [unknown, noId, badId, openQuote]) expect(sent.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('ack acknowledges within 3 s and answers through response_url; the timeline records the Slack user', async () => {
    const id = await openIncident('shop.orders');
    const sent = await command(`ack ${id}`);
    expect(sent.status).toBe(200);
    expect(sent.ms).toBeLessThan(3_000);
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.pathname).toBe('/commands/T0TEAM/1/abc');
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(`Acknowledged by <@${USER}>: #${id} acknowledged`) });
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledged_by: USER });
    const timeline = await selectIncidentTimeline(state.pool(), id);
    expect(timeline?.events.find((event) => event.type === 'acknowledged')).toMatchObject({ actor: USER, source: 'slack' });
  });

  it('acknowledges before the work: the 200 comes back while the incident row is still locked elsewhere', async () => {
    const id = await openIncident('shop.locked');
    const blocker = await state.pool().connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM incidents WHERE id = $1 FOR UPDATE', [id]);
      const sent = await command(`ack ${id}`);
      expect(sent.status).toBe(200);
      expect(sent.ms).toBeLessThan(1_000);
      expect(responseUrl.requests).toHaveLength(0);
      expect(await incident(id)).toMatchObject({ status: 'open' });
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.body).toMatchObject({ text: expect.stringContaining(`Acknowledged by <@${USER}>`) });
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledged_by: USER });
  });

  it('resolve closes the incident and records the Slack user; a second resolve changes nothing', async () => {
    const id = await openIncident('shop.stock');
    await command(`resolve #${id}`);
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.body).toMatchObject({ text: expect.stringContaining(`Resolved by <@${USER}>`) });
    expect(await incident(id)).toMatchObject({ status: 'resolved', resolved_by: USER });
    const timeline = await selectIncidentTimeline(state.pool(), id);
    expect(timeline?.events.find((event) => event.type === 'resolved')).toMatchObject({ actor: USER, source: 'slack' });
    await command(`resolve ${id}`);
    const answers = await responseUrl.waitForRequests(2);
    expect(answers[1]?.body).toMatchObject({ text: `Incident #${id} was already resolved; nothing changed.` });
  });

  it('ack of an incident that does not exist says so', async () => {
    await command('ack 999999');
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.body).toMatchObject({ text: 'No incident #999999. `/pipewarden incidents` lists the active ones.' });
  });

  it('explain shows observed vs expected, the owner and the timeline with the Slack user', async () => {
    const id = await openIncident('shop.explained');
    await command(`ack ${id}`);
    await responseUrl.waitForRequests(1);
    await command(`explain ${id}`);
    const answers = await responseUrl.waitForRequests(2);
    const text = (answers[1]?.body as { text: string }).text;
    expect(text).toContain(`#${id} acknowledged by ${USER}`);
    expect(text).toContain('Observed 1, no baseline range.');
    expect(text).toContain('Owner: inventory.');
    expect(text).toMatch(/• \S+ opened/);
    expect(text).toMatch(new RegExp(`• \\S+ acknowledged by ${USER} via slack`));
    const usage = await command('explain');
    expect(usage.json).toMatchObject({ text: expect.stringContaining('Usage: `/pipewarden explain ID`') });
  });

  it('runbooks lists the loaded runbooks, saying which are destructive', async () => {
    const sent = await command('runbooks');
    expect(sent.json).toMatchObject({ response_type: 'ephemeral' });
    const lines = (sent.json as { text: string }).text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.find((line) => line.includes('*rollback-top-items*'))).toContain('destructive');
    expect(lines.find((line) => line.includes('*restart-orders-loader*'))).toMatch(/steps\)$/);
  });

  it('incidents lists the active ones', async () => {
    const id = await openIncident('shop.skus');
    await command('incidents');
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(`#${id} open`) });
    expect((answer?.body as { text: string }).text).toContain('freshness:shop.skus');
  });

  it('silence with a quoted glob creates a silence by the Slack user; unsilence ends it', async () => {
    await command('silence "analytics.raw.*" 2h rebuilding the feed');
    const [answer] = await responseUrl.waitForRequests(1);
    expect(answer?.body).toMatchObject({ text: expect.stringMatching(/^Silence #\d+: asset `analytics\.raw\.\*` quiet for 2h/) });
    const { rows } = await state.pool().query<{ id: string; asset_globs: string[]; reason: string; created_by: string }>('SELECT id, asset_globs, reason, created_by FROM silences ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toMatchObject({ asset_globs: ['analytics.raw.*'], reason: 'rebuilding the feed', created_by: USER });
    await command(`unsilence ${rows[0]?.id}`);
    const answers = await responseUrl.waitForRequests(2);
    expect(answers[1]?.body).toMatchObject({ text: `Silence #${rows[0]?.id} cancelled.` });
  });
});
