// The incident message's buttons and the roles from `slack.roles`, over real HTTP: block_actions
// payloads (`payload=` JSON forms) signed with the configured secret reach pipewarden's HTTP
// server on 127.0.0.1; each click is acknowledged at once and answered ephemerally through
// `response_url` (a recording loopback server); the state database is real; user groups come from
// a fake Slack Web API (usergroups.users.list).

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackApp, ROLE_CHECK_WAIT_MS, type SlackApp } from '../../src/chat/slack-app.ts';
import { SLACK_ACTIONS_PATH, SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { HttpServer } from '../../src/http/server.ts';
import { SLACK_ACTIONS } from '../../src/notify/slack-message.ts';
import { selectIncidentTimeline } from '../../src/store/incident-records.ts';
import { selectApproval } from '../../src/store/runbook-approvals.ts';
import { insertRun } from '../../src/store/runbook-runs.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { blockActionsBody, openTestIncident, slashCommandBody } from '../helpers/slack-requests.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { startSlackApiTestServer, type SlackApiTestServer } from '../helpers/slack-api-server.ts';

const SECRET = 'slack-signing-secret-for-button-tests';
const RESPONDER = 'U0RESPONDER';
const VIEWER = 'U0VIEWER';
const GROUPIE = 'U0GROUPIE';
const ONCALL_GROUP = 'S0ONCALL';

let state: TestDatabase;
let server: HttpServer;
let slack: SlackApp;
let slackApi: SlackApiTestServer;
const responseUrl = new RecordingHttpServer();

const config = () =>
  daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
    monitors: [{ assets: 'shop.*', owner: 'inventory', freshness: true }],
    owners: { inventory: { slack: '#inventory-data' } },
    slack: {
      signing_secret: SECRET,
      bot_token: 'xoxb-buttons',
      api_url: slackApi.url,
      roles: { [RESPONDER]: 'responder', [ONCALL_GROUP]: 'responder' },
      default_role: 'viewer',
    },
  });

beforeAll(async () => {
  state = await createTestDatabase();
  slackApi = await startSlackApiTestServer();
  // The only Web API call this app makes: the members of the one listed group, asked once.
  slackApi.respondWith([{ body: { ok: true, users: [GROUPIE, 'U0SOMEONE'] } }]);
  await responseUrl.start();
  server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
  slack = createSlackApp({ config: config(), pool: state.pool(), logger: testLogger(), now: () => new Date() });
  slack.mount(server);
  await server.listen();
});

afterAll(async () => {
  await server?.close(1_000);
  await responseUrl.stop();
  await slackApi?.stop();
  await state?.drop();
});

beforeEach(() => {
  responseUrl.requests.length = 0;
});

let clicks = 0;

async function click(actionId: string, value: string, userId: string, signed = true): Promise<{ status: number; text: string; ms: number }> {
  clicks += 1;
  const body = blockActionsBody(actionId, value, { userId, responseUrl: `${responseUrl.url}/actions/T0TEAM/${clicks}`, triggerId: `1.2.${clicks}` });
  const headers = signed ? signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) : {};
  const started = performance.now();
  const response = await fetch(`${server.url}${SLACK_ACTIONS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: response.status, text: await response.text(), ms: performance.now() - started };
}

/** The ephemeral answer the n-th click since the last reset got through response_url. */
async function answer(n = 1): Promise<string> {
  const answers = await responseUrl.waitForRequests(n);
  const last = answers[n - 1]?.body as { response_type?: string; replace_original?: boolean; text: string };
  expect(last).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  return last.text;
}

async function command(text: string, userId: string): Promise<{ status: number; json: unknown }> {
  const body = slashCommandBody(text, { userId, responseUrl: `${responseUrl.url}/commands/1` });
  const response = await fetch(`${server.url}${SLACK_COMMANDS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) },
    body,
  });
  const raw = await response.text();
  return { status: response.status, json: raw === '' ? undefined : (JSON.parse(raw) as unknown) };
}

function openIncident(asset: string): Promise<string> {
  return openTestIncident(state.pool(), config(), asset);
}

async function incident(id: string) {
  const { rows } = await state.pool().query<{ status: string; acknowledged_by: string | null; resolved_by: string | null }>('SELECT status, acknowledged_by, resolved_by FROM incidents WHERE id = $1', [id]);
  return rows[0];
}

async function timeline(id: string) {
  return (await selectIncidentTimeline(state.pool(), id))?.events ?? [];
}

async function slackOutboxItems(id: string): Promise<number> {
  const { rows } = await state.pool().query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE incident_id = $1 AND channel = 'slack'", [id]);
  return Number(rows[0]?.n);
}

async function silencesCount(): Promise<number> {
  const { rows } = await state.pool().query<{ n: string }>('SELECT count(*) AS n FROM silences');
  return Number(rows[0]?.n);
}

/** A run of the repo's rollback-top-items runbook (its first step `ask` is an approve step) on incident `incidentId`. */
async function runWaitingForApproval(incidentId: string): Promise<string> {
  const file = new URL('../../runbooks/rollback-top-items.yaml', import.meta.url).pathname;
  const run = await insertRun(state.pool(), {
    runbook: 'rollback-top-items',
    file: 'runbooks/rollback-top-items.yaml',
    source: await readFile(file, 'utf8'),
    digest: 'test',
    asset: 'shop.top_items',
    incidentId,
    params: {},
    startedBy: 'test',
    deadlineAt: new Date(Date.now() + 3_600_000),
    now: new Date(),
  });
  await state.pool().query("UPDATE runbook_runs SET status = 'running', current_step = 'ask' WHERE id = $1", [run.id]);
  return run.id;
}

describe('incident buttons', () => {
  it('Acknowledge acknowledges as the Slack user, acks at once, answers the clicker ephemerally and queues the message update', async () => {
    const id = await openIncident('shop.orders');
    const before = await slackOutboxItems(id);
    const sent = await click(SLACK_ACTIONS.acknowledge, id, RESPONDER);
    expect(sent.status).toBe(200);
    expect(sent.text).toBe('');
    expect(sent.ms).toBeLessThan(3_000);
    expect(await answer()).toMatch(new RegExp(`^Acknowledged incident #${id} \\(\`freshness:shop\\.orders\`\\)`));
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledged_by: RESPONDER });
    expect((await timeline(id)).find((event) => event.type === 'acknowledged')).toMatchObject({ actor: RESPONDER, source: 'slack' });
    expect(await slackOutboxItems(id)).toBeGreaterThan(before);
    await click(SLACK_ACTIONS.acknowledge, id, RESPONDER);
    expect(await answer(2)).toBe(`Incident #${id} was already acknowledged; nothing changed.`);
  });

  it('acknowledges the click before the work: the 200 comes back while the incident row is still locked elsewhere', async () => {
    const id = await openIncident('shop.locked');
    const blocker = await state.pool().connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM incidents WHERE id = $1 FOR UPDATE', [id]);
      const sent = await click(SLACK_ACTIONS.acknowledge, id, RESPONDER);
      expect(sent.status).toBe(200);
      expect(sent.ms).toBeLessThan(1_000);
      expect(responseUrl.requests).toHaveLength(0);
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    expect(await answer()).toContain(`Acknowledged incident #${id}`);
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledged_by: RESPONDER });
  });

  it('Resolve resolves as the Slack user', async () => {
    const id = await openIncident('shop.stock');
    await click(SLACK_ACTIONS.resolve, id, RESPONDER);
    expect(await answer()).toContain(`Resolved incident #${id}`);
    expect(await incident(id)).toMatchObject({ status: 'resolved', resolved_by: RESPONDER });
    expect((await timeline(id)).find((event) => event.type === 'resolved')).toMatchObject({ actor: RESPONDER, source: 'slack' });
  });

  it('Silence 1h silences the incident\'s asset and check for an hour, by the Slack user, in the timeline', async () => {
    const id = await openIncident('shop.noisy');
    const started = Date.now();
    await click(SLACK_ACTIONS.silence1h, id, RESPONDER);
    const text = await answer();
    expect(text).toMatch(/^Silence #\d+: `freshness:shop\.noisy` on `shop\.noisy` quiet for 1h/);
    const { rows } = await state.pool().query<{ id: string; asset_globs: string[]; check_globs: string[]; reason: string; created_by: string; starts_at: Date; ends_at: Date }>(
      'SELECT * FROM silences ORDER BY id DESC LIMIT 1',
    );
    const silence = rows[0];
    expect(silence).toMatchObject({ asset_globs: ['shop.noisy'], check_globs: ['freshness:shop.noisy'], reason: `silenced from Slack by <@${RESPONDER}>`, created_by: RESPONDER });
    expect((silence?.ends_at.getTime() ?? 0) - (silence?.starts_at.getTime() ?? 0)).toBe(3_600_000);
    expect(silence?.starts_at.getTime()).toBeGreaterThanOrEqual(started - 1_000);
    expect((await timeline(id)).find((event) => event.type === 'silenced')).toMatchObject({ actor: RESPONDER, source: 'slack', detail: { silence: String(silence?.id) } });
    const told = await state.pool().query<{ channel: string; text: string }>("SELECT channel, payload->>'text' AS text FROM outbox WHERE incident_id = $1 AND payload->>'change' = 'silenced'", [id]);
    expect(told.rows.map((row) => row.channel)).not.toContain('pagerduty');
    expect(told.rows[0]?.text).toMatch(new RegExp(`^SILENCED incident #${id} freshness shop\\.noisy by ${RESPONDER} \\(slack\\) until \\S+ \\(silence #${String(silence?.id)}\\)`));
  });

  it('Run runbook and Mark expected need the responder role, and then act like their slash commands', async () => {
    const id = await openIncident('shop.pointers');
    await click(SLACK_ACTIONS.runRunbook, id, VIEWER);
    expect(await answer()).toMatch(/run runbook needs responder/);
    await click(SLACK_ACTIONS.markExpected, id, VIEWER);
    expect(await answer(2)).toMatch(/mark expected needs responder/);
    // This app was given no runbooks, and the incident's finding was never stored (applyFindings alone).
    await click(SLACK_ACTIONS.runRunbook, id, RESPONDER);
    expect(await answer(3)).toBe('pipewarden has not loaded its runbooks yet; try again in a moment.');
    await click(SLACK_ACTIONS.markExpected, id, RESPONDER);
    expect(await answer(4)).toBe(`Incident #${id} has no stored finding to mark (retention may have removed it).`);
  });

  it('an unsigned click gets 401 and changes nothing', async () => {
    const id = await openIncident('shop.unsigned');
    const sent = await click(SLACK_ACTIONS.acknowledge, id, RESPONDER, false);
    expect(sent.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(responseUrl.requests).toHaveLength(0);
  });
});

describe('Approve / Reject', () => {
  it('approve records the decision by the Slack user and a timeline entry on the run\'s incident; a later reject is told the approval stands', async () => {
    const id = await openIncident('shop.top_items');
    const runId = await runWaitingForApproval(id);
    await click(SLACK_ACTIONS.approve, `${runId}:ask`, RESPONDER);
    expect(await answer()).toBe(`Step \`ask\` of run #${runId} (rollback-top-items) approved.`);
    expect(await selectApproval(state.pool(), runId, 'ask')).toMatchObject({ decision: 'approved', decided_by: RESPONDER });
    expect((await timeline(id)).filter((event) => event.type === 'runbook_approval')).toEqual([
      expect.objectContaining({ actor: RESPONDER, source: 'slack', detail: expect.objectContaining({ run: runId, step: 'ask', decision: 'approved' }) }),
    ]);
    await click(SLACK_ACTIONS.reject, `${runId}:ask`, RESPONDER);
    expect(await answer(2)).toMatch(new RegExp(`^Step \`ask\` of run #${runId} was already approved by <@${RESPONDER}> at \\S+; that decision stands and nothing changed\\.$`));
    expect(await selectApproval(state.pool(), runId, 'ask')).toMatchObject({ decision: 'approved', decided_by: RESPONDER });
    expect((await timeline(id)).filter((event) => event.type === 'runbook_approval')).toHaveLength(1);
  });

  it('refuses a run that is not waiting on that approve step: ended, or the step is not an approve step', async () => {
    const id = await openIncident('shop.top_items_ended');
    const runId = await runWaitingForApproval(id);
    await click(SLACK_ACTIONS.approve, `${runId}:pause_refresh`, RESPONDER);
    expect(await answer()).toBe(`Run #${runId} (rollback-top-items) has no approve step \`pause_refresh\`; nothing was recorded.`);
    await state.pool().query("UPDATE runbook_runs SET status = 'succeeded', finished_at = now() WHERE id = $1", [runId]);
    await click(SLACK_ACTIONS.approve, `${runId}:ask`, RESPONDER);
    expect(await answer(2)).toBe(`Run #${runId} (rollback-top-items) already ended (succeeded); nothing was recorded.`);
    const { rows } = await state.pool().query('SELECT * FROM runbook_approvals WHERE run_id = $1', [runId]);
    expect(rows).toEqual([]);
    expect((await timeline(id)).filter((event) => event.type === 'runbook_approval')).toEqual([]);
  });
});

describe('roles', () => {
  it('a viewer\'s clicks are refused with the reason and change nothing', async () => {
    const id = await openIncident('shop.viewer');
    const runId = await runWaitingForApproval(id);
    const silences = await silencesCount();
    const cases: Array<[string, string, string]> = [
      [SLACK_ACTIONS.acknowledge, id, 'acknowledge needs responder'],
      [SLACK_ACTIONS.resolve, id, 'resolve needs responder'],
      [SLACK_ACTIONS.silence1h, id, 'silence needs responder'],
      [SLACK_ACTIONS.approve, `${runId}:ask`, 'approve needs responder'],
    ];
    for (const [n, [actionId, value, needs]] of cases.entries()) {
      const sent = await click(actionId, value, VIEWER);
      expect(sent.status).toBe(200);
      expect(await answer(n + 1)).toBe(`You have the viewer role; ${needs} or above. Ask an admin to add you or one of your user groups to \`slack.roles\`.`);
    }
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null, resolved_by: null });
    expect(await silencesCount()).toBe(silences);
    expect(await selectApproval(state.pool(), runId, 'ask')).toBeUndefined();
    expect((await timeline(id)).map((event) => event.type)).toEqual(['opened']);
  });

  it('a responder through a user group may act; the group is looked up once for two clicks', async () => {
    const first = await openIncident('shop.group_one');
    const second = await openIncident('shop.group_two');
    await click(SLACK_ACTIONS.acknowledge, first, GROUPIE);
    expect(await answer()).toContain(`Acknowledged incident #${first}`);
    await click(SLACK_ACTIONS.resolve, second, GROUPIE);
    expect(await answer(2)).toContain(`Resolved incident #${second}`);
    expect(await incident(first)).toMatchObject({ status: 'acknowledged', acknowledged_by: GROUPIE });
    expect(await incident(second)).toMatchObject({ status: 'resolved', resolved_by: GROUPIE });
    const lookups = slackApi.calls.filter((call) => call.method === 'usergroups.users.list');
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toMatchObject({ args: { usergroup: ONCALL_GROUP }, authorization: 'Bearer xoxb-buttons' });
  });

  it('slash commands: a viewer reads but may not ack; the refusal is ephemeral and changes nothing', async () => {
    const id = await openIncident('shop.slash_viewer');
    const refused = await command(`ack ${id}`, VIEWER);
    expect(refused.status).toBe(200);
    expect(refused.json).toEqual({ response_type: 'ephemeral', text: 'You have the viewer role; acknowledge needs responder or above. Ask an admin to add you or one of your user groups to `slack.roles`.' });
    for (const text of [`resolve ${id}`, 'silence shop.slash_viewer 1h', 'unsilence 1']) {
      expect((await command(text, VIEWER)).json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^You have the viewer role; \w+ needs responder or above\./) });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(responseUrl.requests).toHaveLength(0);
    expect((await command('incidents', VIEWER)).status).toBe(200);
    const [listed] = await responseUrl.waitForRequests(1);
    expect(listed?.body).toMatchObject({ text: expect.stringContaining(`#${id} open`) });
    const help = await command('help', VIEWER);
    expect(help.json).toMatchObject({ text: expect.stringContaining('subcommands') });
  });
});

describe('roles with a slow or failing user-group lookup', () => {
  let slowServer: HttpServer;
  const slowSlackApi = new RecordingHttpServer();

  beforeAll(async () => {
    await slowSlackApi.start();
    slowServer = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics: new Metrics() });
    const slowConfig = daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
      monitors: [{ assets: 'shop.*', owner: 'inventory', freshness: true }],
      owners: { inventory: {} },
      slack: { signing_secret: SECRET, bot_token: 'xoxb-slow', api_url: `${slowSlackApi.url}/api/`, roles: { [ONCALL_GROUP]: 'responder' } },
    });
    createSlackApp({ config: slowConfig, pool: state.pool(), logger: testLogger(), now: () => new Date() }).mount(slowServer);
    await slowServer.listen();
  });

  afterAll(async () => {
    await slowServer?.close(1_000);
    await slowSlackApi.stop();
  });

  async function slowCommand(text: string, userId: string): Promise<{ status: number; raw: string; ms: number }> {
    const body = new URLSearchParams({ command: '/pipewarden', text, user_id: userId, user_name: 'someone', team_id: 'T0TEAM', channel_id: 'C0INVENTORY', response_url: `${responseUrl.url}/commands/slow`, trigger_id: 't' }).toString();
    const started = performance.now();
    const response = await fetch(`${slowServer.url}${SLACK_COMMANDS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) },
      body,
    });
    return { status: response.status, raw: await response.text(), ms: performance.now() - started };
  }

  // First in this block: nothing is cached yet.
  it('a failed group lookup refuses the click and the command (nothing changes) and is not cached', async () => {
    slowSlackApi.respondWith([{ body: { ok: false, error: 'missing_scope', needed: 'usergroups:read' } }, { body: { ok: false, error: 'missing_scope', needed: 'usergroups:read' } }]);
    const id = await openIncident('shop.failed_lookup');
    const sent = await slowCommand(`ack ${id}`, VIEWER);
    expect(JSON.parse(sent.raw)).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/^pipewarden could not check your role/) });
    const payload = { type: 'block_actions', user: { id: GROUPIE }, team: { id: 'T0TEAM' }, api_app_id: 'A0APP', response_url: `${responseUrl.url}/actions/slow`, actions: [{ action_id: SLACK_ACTIONS.acknowledge, type: 'button', value: id }] };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await fetch(`${slowServer.url}${SLACK_ACTIONS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) }, body });
    const [answered] = await responseUrl.waitForRequests(1);
    expect(answered?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^pipewarden could not check your role .*; nothing changed\./) });
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(slowSlackApi.requests.map((request) => request.pathname)).toEqual(['/api/usergroups.users.list', '/api/usergroups.users.list']);
  });

  it('a slash command whose group lookup is slow is acknowledged empty in time, and the refusal comes through response_url', async () => {
    slowSlackApi.respondWith([{ delayMs: ROLE_CHECK_WAIT_MS + 1_000, body: { ok: true, users: ['U0SOMEONE'] } }]);
    const id = await openIncident('shop.slow_lookup');
    const sent = await slowCommand(`ack ${id}`, VIEWER);
    expect(sent.status).toBe(200);
    expect(sent.raw).toBe('');
    expect(sent.ms).toBeGreaterThanOrEqual(ROLE_CHECK_WAIT_MS - 100);
    expect(sent.ms).toBeLessThan(ROLE_CHECK_WAIT_MS + 800);
    const [refusal] = await responseUrl.waitForRequests(1);
    expect(refusal?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^You have the viewer role; acknowledge needs responder/) });
    expect(await incident(id)).toMatchObject({ status: 'open', acknowledged_by: null });
    expect(slowSlackApi.requests.map((request) => request.pathname)).toEqual(['/api/usergroups.users.list']);
  });
});
