// The whole life of an incident driven from Slack, in a real daemon: a stale feed opens an
// incident; its message appears in the owner's channel; the matching runbook asks for approval
// there (Approve / Reject on the message); a responder approves with the button; the runbook
// reloads the feed and verifies; the message ends "recovered" — and every change is a line in the
// message's thread and an entry in `pipewarden incidents show`. A second, noisy table is silenced
// with the slash command and resolved with its button.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_ACTIONS_PATH, SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { SLACK_ACTIONS } from '../../src/notify/slack-message.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';
import { startSlackApiTestServer, type SlackApiCall, type SlackApiTestServer } from '../helpers/slack-api-server.ts';
import { blockActionsBody, slashCommandBody } from '../helpers/slack-requests.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const SECRET = 'lifecycle-secret';
const RESPONDER = 'U0ANA';
const FEED = 'shop.raw.inventory';
const NOISY = 'shop.raw.noisy';

const RUNBOOK = `name: reload-with-approval
match: { checks: [freshness], assets: ["${FEED}"] }
steps:
  - name: ask
    action: approve
    with: { message: "Reload the inventory feed?", timeout: 5m, default: reject, poll: 200ms }
  - name: reload
    action: sql
    with:
      statement: "insert into {{t}} (id, loaded_at) values ($1, now())"
      identifiers: { t: ["\${asset.schema}", "\${asset.table}"] }
      params: [2]
  - name: verify
    action: verify
    with: { within: 20s, every: 1s }
`;

let state: TestDatabase;
let warehouse: TestDatabase;
let slack: SlackApiTestServer;
let responses: RecordingHttpServer;
let daemon: RunningDaemon;
let dir: string;
let sent = 0;

async function signedPost(route: string, body: string): Promise<number> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) };
  return (await fetch(`${daemon.httpUrl}${route}`, { method: 'POST', headers, body })).status;
}

function slash(text: string): Promise<number> {
  sent += 1;
  return signedPost(SLACK_COMMANDS_PATH, slashCommandBody(text, { userId: RESPONDER, responseUrl: `${responses.url}/r/${sent}` }));
}

function clickButton(actionId: string, value: string): Promise<number> {
  sent += 1;
  return signedPost(SLACK_ACTIONS_PATH, blockActionsBody(actionId, value, { userId: RESPONDER, responseUrl: `${responses.url}/r/${sent}`, triggerId: `t${sent}` }));
}

async function incidentId(asset: string): Promise<string> {
  return waitUntil(async () => {
    const { rows } = await state.pool().query<{ id: string }>('SELECT id FROM pipewarden.incidents WHERE asset = $1 ORDER BY id DESC LIMIT 1', [asset]);
    return rows[0] === undefined ? undefined : String(rows[0].id);
  }, 20_000, `an incident on ${asset}`);
}

const callsFor = (id: string, method: string): SlackApiCall[] => slack.calls.filter((call) => call.method === method && JSON.stringify(call.args).includes(`#${id}`));

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query(
    `create schema raw;
     create table raw.inventory (id int, loaded_at timestamptz); insert into raw.inventory values (1, now() - interval '1 hour');
     create table raw.noisy (id int, loaded_at timestamptz); insert into raw.noisy values (1, now() - interval '1 hour');`,
  );
  [slack, responses] = await Promise.all([startSlackApiTestServer(), startRecordingHttpServer()]);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-slack-lifecycle-'));
  await mkdir(path.join(dir, 'runbooks'));
  await writeFile(path.join(dir, 'runbooks', 'reload.yaml'), RUNBOOK);
  const config = daemonConfig(state.url, { shop: warehouse.url }, {
    warehouses: { shop: { type: 'postgres', url: warehouse.url, write_url: warehouse.url, connect_timeout: '2s' } },
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *' },
    monitors: [{ assets: 'shop.raw.*', owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: { inventory: { slack: '#inventory-data' } },
    incidents: { resolve_after: 1 },
    slack: { signing_secret: SECRET, bot_token: 'xoxb-lifecycle', api_url: slack.url, roles: { [RESPONDER]: 'responder' } },
    runbooks: { folder: path.join(dir, 'runbooks'), lease: '5s' },
  });
  await writeFile(path.join(dir, 'pipewarden.yaml'), `warehouses:\n  shop: { type: postgres, url: "${warehouse.url}" }\nstate:\n  url: "${state.url}"\n`);
  daemon = await startDaemon({ config, env: {}, logger: testLogger() });
}, 60_000);

afterAll(async () => {
  await daemon?.stop('test finished');
  await Promise.all([slack?.stop(), responses?.stop()]);
  await Promise.all([state?.drop(), warehouse?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an incident driven from Slack', () => {
  it('appears, asks for approval on its message, recovers once approved, and tells every step in its thread and in pipewarden incidents', async () => {
    const id = await incidentId(FEED);
    // The runbook's question shows on the message as Approve / Reject naming its run and step.
    const asking = await waitUntil(async () => callsFor(id, 'chat.update').find((call) => JSON.stringify(call.args.blocks).includes('pipewarden_approval_')), 20_000, 'the approval buttons');
    const value = /"value":"(\d+:ask)"/.exec(JSON.stringify(asking.args.blocks))?.[1] as string;
    expect(value).toMatch(/^\d+:ask$/);

    expect(await clickButton(SLACK_ACTIONS.approve, value)).toBe(200);
    await waitUntil(async () => ((await state.pool().query("SELECT 1 FROM pipewarden.incidents WHERE id = $1 AND status = 'resolved'", [id])).rowCount === 1 ? true : undefined), 30_000, 'the recovery');
    await waitUntil(async () => (callsFor(id, 'chat.update').some((call) => JSON.stringify(call.args.blocks).includes('Recovered by runbook')) ? true : undefined), 10_000, 'the recovered message');
    // The thread reply follows the edit (the deliverer edits, then replies): wait for it too.
    await waitUntil(async () => (callsFor(id, 'chat.postMessage').some((call) => call.args.thread_ts !== undefined && String(call.args.text).startsWith('RECOVERED')) ? true : undefined), 10_000, 'the recovered line in the thread');

    // One message for the incident, and its thread tells the story in order.
    const root = slack.calls.find((call) => call.method === 'chat.postMessage' && call.args.thread_ts === undefined && String(call.args.text).includes(`#${id} `));
    expect(root).toBeDefined();
    const thread = slack.calls.filter((call) => call.method === 'chat.postMessage' && call.args.thread_ts !== undefined && String(call.args.text).includes(`#${id} `)).map((call) => String(call.args.text));
    const at = (head: string) => thread.findIndex((text) => text.startsWith(head));
    // Announced, then asked; the verify's own sweep resolves the incident, and the run's end reports the recovery.
    expect(at('RECOVERING')).toBeGreaterThanOrEqual(0);
    expect(at('RUNBOOK reload-with-approval')).toBeGreaterThan(at('RECOVERING'));
    expect(at('RESOLVED')).toBeGreaterThan(at('RUNBOOK reload-with-approval'));
    expect(at('RECOVERED')).toBeGreaterThan(at('RUNBOOK reload-with-approval'));

    // The terminal shows the same: approval by the Slack user, the run and its attempts.
    const shown = await runCliCaptured(['incidents', 'show', id, '--config', path.join(dir, 'pipewarden.yaml')], { cwd: dir, env: {} });
    expect(shown.stdout).toMatch(new RegExp(`runbook_approval by ${RESPONDER} via slack`));
    expect(shown.stdout).toMatch(/runbook run #\d+ succeeded reload-with-approval/);
    expect(shown.stdout).toMatch(/step ask \(approve\) attempt 1 succeeded/);
    expect(shown.stdout).toMatch(/step verify \(verify\) attempt 1 succeeded/);
  }, 90_000);

  it('silences a noisy table with the slash command and resolves it with its button', async () => {
    const id = await incidentId(NOISY);
    expect(await slash(`silence ${NOISY} 1h "rebuilt tonight"`)).toBe(200);
    await waitUntil(async () => ((await state.pool().query("SELECT 1 FROM pipewarden.silences WHERE reason = 'rebuilt tonight' AND created_by = $1", [RESPONDER])).rowCount === 1 ? true : undefined), 10_000, 'the silence');
    // The silence is a line in the incident's thread, and the command's answer names the incident it covers.
    await waitUntil(async () => (slack.calls.some((call) => call.args.thread_ts !== undefined && String(call.args.text).startsWith(`SILENCED incident #${id} freshness ${NOISY} by ${RESPONDER} (slack)`)) ? true : undefined), 10_000, 'the silence in the thread');
    const answered = await waitUntil(async () => responses.requests.find((request) => JSON.stringify(request.body).includes('Silence #')), 10_000, 'the answer');
    expect(JSON.stringify(answered.body)).toContain(`(covers incident #${id})`);
    expect(await clickButton(SLACK_ACTIONS.resolve, id)).toBe(200);
    await waitUntil(async () => ((await state.pool().query("SELECT 1 FROM pipewarden.incidents WHERE id = $1 AND resolved_by = $2", [id, RESPONDER])).rowCount === 1 ? true : undefined), 10_000, 'the resolution');
    const { rows } = await state.pool().query<{ type: string; actor: string | null; source: string | null }>('SELECT type, actor, source FROM pipewarden.incident_events WHERE incident_id = $1 ORDER BY id', [id]);
    expect(rows).toContainEqual({ type: 'resolved', actor: RESPONDER, source: 'slack' });
  }, 60_000);
});
