// An incident's life as a Slack user sees it, in a real daemon: a stale feed in a real warehouse
// opens an incident whose message is posted to the owner's channel (a recording fake Slack Web
// API on loopback); `/pipewarden ack ID`, signed like Slack signs it, acknowledges it as that
// Slack user; the message is then edited in place and the change lands in its thread.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { SLACK_CHANNEL_ID, slackTs, startSlackApiTestServer, type SlackApiTestServer } from '../helpers/slack-api-server.ts';
import { slashCommandBody } from '../helpers/slack-requests.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const SECRET = 'lifecycle-signing-secret';
const ASSET = 'shop.raw.inventory';

let state: TestDatabase;
let warehouse: TestDatabase;
let slack: SlackApiTestServer;
let responses: RecordingHttpServer;
let daemon: RunningDaemon;

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query("create schema raw; create table raw.inventory (id int, loaded_at timestamptz); insert into raw.inventory values (1, now() - interval '1 hour')");
  slack = await startSlackApiTestServer();
  responses = await startRecordingHttpServer();
  const config = daemonConfig(state.url, { shop: warehouse.url }, {
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *' },
    monitors: [{ assets: ASSET, owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: { inventory: { slack: '#inventory-data' } },
    slack: { signing_secret: SECRET, bot_token: 'xoxb-lifecycle', api_url: slack.url, roles: { U0ANA: 'responder' } },
  });
  daemon = await startDaemon({ config, env: {}, logger: testLogger() });
}, 60_000);

afterAll(async () => {
  await daemon?.stop('test finished');
  await Promise.all([slack?.stop(), responses?.stop()]);
  await Promise.all([state?.drop(), warehouse?.drop()]);
});

async function slashCommand(text: string, user: string): Promise<Response> {
  const body = slashCommandBody(text, { userId: user, responseUrl: `${responses.url}/respond` });
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) };
  return fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', headers, body });
}

describe('an incident from Slack', () => {
  it('is posted once to the owner channel, acknowledged by a Slack user, then edited in place with the change in its thread', async () => {
    const [posted] = await slack.waitForCalls(1, 20_000);
    expect(posted).toMatchObject({ method: 'chat.postMessage', authorization: 'Bearer xoxb-lifecycle', args: { channel: '#inventory-data' } });
    expect(String(posted?.args.text)).toMatch(new RegExp(`^\\[open\\] #\\d+ freshness ${ASSET.replaceAll('.', '\\.')}`));
    const id = /#(\d+)/.exec(String(posted?.args.text))?.[1] as string;

    const acked = await slashCommand(`ack ${id}`, 'U0ANA');
    expect(acked.status).toBe(200);
    await waitUntil(async () => ((await state.pool().query("SELECT 1 FROM pipewarden.incidents WHERE id = $1 AND status = 'acknowledged'", [id])).rowCount === 1 ? true : undefined), 10_000, 'the acknowledgement');
    const [answer] = await responses.waitForRequests(1, 10_000);
    expect(JSON.stringify(answer?.body)).toContain(`#${id}`);

    const calls = await slack.waitForCalls(3, 10_000);
    expect(calls.slice(1).map((call) => call.method)).toEqual(['chat.update', 'chat.postMessage']);
    expect(calls[1]?.args).toMatchObject({ channel: SLACK_CHANNEL_ID, ts: slackTs(1) });
    expect(JSON.stringify(calls[1]?.args.blocks)).toContain('acknowledged by U0ANA');
    expect(calls[2]?.args).toMatchObject({ channel: SLACK_CHANNEL_ID, thread_ts: slackTs(1) });
    expect(String(calls[2]?.args.text)).toMatch(/^ACKNOWLEDGED incident #\d+ freshness .* by U0ANA \(slack\)/);
    // One message per incident: nothing else was posted at the channel's top level.
    expect(slack.calls.filter((call) => call.method === 'chat.postMessage' && call.args.thread_ts === undefined)).toHaveLength(1);

    const { rows } = await state.pool().query('SELECT type, actor, source FROM pipewarden.incident_events WHERE incident_id = $1 AND type = $2', [id, 'acknowledged']);
    expect(rows).toEqual([{ type: 'acknowledged', actor: 'U0ANA', source: 'slack' }]);
  }, 60_000);
});
