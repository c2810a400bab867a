// Incident messages in Slack through the real outbox: items planned by planNotifications and
// queued in a real state database, delivered by the OutboxLoop through the Slack deliverer and
// @slack/web-api's WebClient to a recording fake Slack Web API on 127.0.0.1. One message per
// incident, edited in place, the timeline in its thread; retries never post a second message;
// 429 waits for Retry-After; errors a person must fix are dead letters that say how.

import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import { planNotifications, type IncidentChange } from '../../src/incidents/plan-notifications.ts';
import { notificationChannels, openChannels } from '../../src/notify/channels.ts';
import { OutboxLoop } from '../../src/notify/outbox-loop.ts';
import { routeForAsset } from '../../src/notify/routing.ts';
import { SLACK_ACTIONS } from '../../src/notify/slack-message.ts';
import { insertIncident, insertOutboxItems, updateIncident, type IncidentRow } from '../../src/store/incident-records.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding } from '../../src/types.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { SLACK_CHANNEL_ID, slackTs, startSlackApiTestServer, type SlackApiCall, type SlackApiTestServer } from '../helpers/slack-api-server.ts';

const TOKEN = 'xoxb-1111-2222-secret-test-token';
const T0 = new Date('2025-06-02T08:00:00Z');

let state: TestDatabase;
let slack: SlackApiTestServer;
let now: Date;
let logLines: string[];

beforeAll(async () => {
  [state, slack] = await Promise.all([createTestDatabase(), startSlackApiTestServer()]);
});

afterAll(async () => {
  await Promise.all([state?.drop(), slack?.stop()]);
});

beforeEach(async () => {
  // Each test starts from no open incident and nothing due (they reuse the same check).
  await state.pool().query("UPDATE outbox SET status = 'dead' WHERE status = 'pending'");
  await state.pool().query("UPDATE incidents SET status = 'resolved' WHERE status <> 'resolved'");
  now = T0;
  logLines = [];
  slack.respondWith([]);
});

function slackConfig(): Config {
  return daemonConfig(state.url, { shop: 'postgres://w@127.0.0.1:1/w' }, {
    monitors: [{ assets: 'shop.raw.*', owner: 'inventory', freshness: { column: 'loaded_at', warn_after: '2m', error_after: '5m' } }],
    owners: { inventory: { slack: '#inventory-data' } },
    slack: { bot_token: TOKEN },
    notifications: { grafana_url: 'https://grafana.example.com/d/pipewarden' },
  });
}

/** The daemon's outbox loop with the channels openChannels gives it, pointed at the fake Slack. */
async function outbox(config = slackConfig()): Promise<{ loop: OutboxLoop; close(): void }> {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const channels = await openChannels(config, logger, { pool: state.pool(), slackApiUrl: slack.url });
  const loop = new OutboxLoop({ pool: state.pool(), deliverers: channels.deliverers, logger, metrics: new Metrics({ processMetrics: false }), now: () => now, random: () => 0 });
  return { loop, close: () => channels.close() };
}

function finding(asset: string, message: string): Finding {
  return { check: `freshness:${asset}`, kind: 'freshness', asset, status: 'fail', observed: 3600, expected: { low: null, high: 600 }, message };
}

async function openIncident(asset = 'shop.raw.inventory', message = `${asset}: newest loaded_at is 1h old`): Promise<IncidentRow> {
  const client = await state.pool().connect();
  try {
    return await insertIncident(client, { finding: finding(asset, message), severity: 'critical', flapping: false, owner: 'inventory', openedAt: T0 });
  } finally {
    client.release();
  }
}

/** Queues what planNotifications plans for the change (the Slack items; console has its own tests). */
async function queue(incident: IncidentRow, change: IncidentChange, config = slackConfig()): Promise<void> {
  const plan = planNotifications({ change, incident, route: routeForAsset(config, incident.asset), channels: notificationChannels(config), pageOn: ['critical'] });
  const items = plan.items.filter((item) => item.channel === 'slack');
  expect(items).toHaveLength(1);
  const client = await state.pool().connect();
  try {
    await insertOutboxItems(client, items, now);
  } finally {
    client.release();
  }
}

async function acknowledge(incident: IncidentRow, by: string): Promise<IncidentRow> {
  const client = await state.pool().connect();
  try {
    return await updateIncident(client, incident.id, { status: 'acknowledged', acknowledged: { at: now, by } });
  } finally {
    client.release();
  }
}

async function outboxRows(incidentId: string) {
  const result = await state.pool().query<{ status: string; attempts: number; last_error: string | null; next_attempt_at: Date }>(
    "SELECT status, attempts, last_error, next_attempt_at FROM outbox WHERE incident_id = $1 AND channel = 'slack' ORDER BY id",
    [incidentId],
  );
  return result.rows;
}

async function storedMessage(incidentId: string) {
  const result = await state.pool().query<{ channel: string; ts: string }>('SELECT channel, ts FROM slack_messages WHERE incident_id = $1', [incidentId]);
  return result.rows;
}

const later = (ms: number): void => {
  now = new Date(now.getTime() + ms);
};

const blockText = (call: SlackApiCall | undefined): string => JSON.stringify(call?.args.blocks);

describe('Slack incident messages through the outbox', () => {
  it('posts the first change as the incident\'s message, then edits it in place and replies in its thread', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      expect(await loop.deliverDue()).toBe(1);

      expect(slack.calls.map((call) => call.method)).toEqual(['chat.postMessage']);
      const [post] = slack.calls;
      expect(post?.authorization).toBe(`Bearer ${TOKEN}`);
      expect(post?.args).toMatchObject({ channel: '#inventory-data', text: `[open] #${incident.id} freshness shop.raw.inventory: shop.raw.inventory: newest loaded_at is 1h old` });
      expect(post?.args.thread_ts).toBeUndefined();
      expect(post?.args.blocks).toEqual([
        { type: 'section', text: { type: 'mrkdwn', text: `:red_circle: *#${incident.id} freshness shop.raw.inventory*: shop.raw.inventory: newest loaded_at is 1h old` } },
        expect.objectContaining({ type: 'section', fields: expect.arrayContaining([{ type: 'mrkdwn', text: '*State*\nopen' }, { type: 'mrkdwn', text: '*Owner*\ninventory' }]) }),
        { type: 'context', elements: [{ type: 'mrkdwn', text: '<https://grafana.example.com/d/pipewarden|Open in Grafana>' }] },
        expect.objectContaining({ type: 'actions', elements: expect.arrayContaining([expect.objectContaining({ action_id: SLACK_ACTIONS.acknowledge, value: incident.id })]) }),
      ]);
      expect(await storedMessage(incident.id)).toEqual([{ channel: SLACK_CHANNEL_ID, ts: slackTs(1) }]);
      expect((await outboxRows(incident.id)).map((row) => row.status)).toEqual(['delivered']);

      const acked = await acknowledge(incident, 'slack:U42');
      await queue(acked, { type: 'acknowledged', by: 'slack:U42', source: 'slack' });
      slack.respondWith([]);
      expect(await loop.deliverDue()).toBe(1);

      expect(slack.calls.map((call) => [call.method, call.args.channel, call.args.ts, call.args.thread_ts])).toEqual([
        ['chat.update', SLACK_CHANNEL_ID, slackTs(1), undefined],
        ['chat.postMessage', SLACK_CHANNEL_ID, undefined, slackTs(1)],
      ]);
      const [update, reply] = slack.calls;
      expect(blockText(update)).toContain('*State*\\nacknowledged by slack:U42');
      expect(update?.args.text).toBe(`[acknowledged] #${incident.id} freshness shop.raw.inventory: shop.raw.inventory: newest loaded_at is 1h old`);
      expect(reply?.args.text).toBe(`ACKNOWLEDGED incident #${incident.id} freshness shop.raw.inventory by slack:U42 (slack)`);
      expect(slack.calls.every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
      expect(await storedMessage(incident.id)).toEqual([{ channel: SLACK_CHANNEL_ID, ts: slackTs(1) }]);
      expect((await outboxRows(incident.id)).map((row) => row.status)).toEqual(['delivered', 'delivered']);
    } finally {
      close();
    }
  });

  it('calls the Web API at slack.api_url when set (a proxy in front of Slack)', async () => {
    const base = slackConfig();
    const config = { ...base, slack: { ...base.slack, bot_token: TOKEN, api_url: slack.url } } as Config;
    const channels = await openChannels(config, createLogger({ level: 'silent' }), { pool: state.pool() });
    const loop = new OutboxLoop({ pool: state.pool(), deliverers: channels.deliverers, logger: createLogger({ level: 'silent' }), metrics: new Metrics({ processMetrics: false }), now: () => now });
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange, config);
      await loop.deliverDue();
      expect(slack.calls.map((call) => [call.method, call.args.channel])).toEqual([['chat.postMessage', '#inventory-data']]);
    } finally {
      channels.close();
    }
  });

  it('retries a post Slack failed without posting twice, and a retried edit without replying twice', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      slack.respondWith([{ status: 503 }]);
      await loop.deliverDue();
      expect(await outboxRows(incident.id)).toEqual([expect.objectContaining({ status: 'pending', attempts: 1, last_error: 'Slack chat.postMessage answered HTTP 503' })]);
      expect(await storedMessage(incident.id)).toEqual([]);
      later(60_000);
      await loop.deliverDue();
      expect(slack.calls.map((call) => call.method)).toEqual(['chat.postMessage', 'chat.postMessage']);
      expect(await storedMessage(incident.id)).toEqual([{ channel: SLACK_CHANNEL_ID, ts: slackTs(1) }]);

      // The edit lands, the thread reply fails: the retry edits again (harmless) and replies once.
      await queue(incident, { type: 'reminded' } as IncidentChange);
      slack.respondWith([{ status: 200, body: { ok: true, channel: SLACK_CHANNEL_ID, ts: slackTs(1) } }, { status: 500 }]);
      await loop.deliverDue();
      later(60_000);
      await loop.deliverDue();
      expect(slack.calls.map((call) => [call.method, call.args.thread_ts])).toEqual([
        ['chat.update', undefined],
        ['chat.postMessage', slackTs(1)],
        ['chat.update', undefined],
        ['chat.postMessage', slackTs(1)],
      ]);
      expect((await outboxRows(incident.id)).map((row) => [row.status, row.attempts])).toEqual([['delivered', 2], ['delivered', 2]]);
    } finally {
      close();
    }
  });

  it('a delivery whose outcome was lost (the sender died after Slack answered and it was recorded) edits the message on retry, posting no second message and no second reply', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      await loop.deliverDue();
      // As if the sender died before marking the item delivered: its lease ran out, it is due again.
      await state.pool().query("UPDATE outbox SET status = 'pending', delivered_at = NULL WHERE incident_id = $1", [incident.id]);
      slack.respondWith([]);
      await loop.deliverDue();
      expect(slack.calls.map((call) => [call.method, call.args.channel, call.args.ts])).toEqual([['chat.update', SLACK_CHANNEL_ID, slackTs(1)]]);
      expect(await storedMessage(incident.id)).toHaveLength(1);

      // The same for a later change: its thread reply went out, then the sender died.
      await queue(incident, { type: 'reminded' } as IncidentChange);
      await loop.deliverDue();
      await state.pool().query("UPDATE outbox SET status = 'pending', delivered_at = NULL WHERE id = (SELECT max(id) FROM outbox WHERE incident_id = $1)", [incident.id]);
      slack.respondWith([]);
      await loop.deliverDue();
      expect(slack.calls.map((call) => [call.method, call.args.ts, call.args.thread_ts])).toEqual([['chat.update', slackTs(1), undefined]]);
    } finally {
      close();
    }
  });

  it('honours Retry-After on 429, sending one request per attempt', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      slack.respondWith([{ status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } }]);
      await loop.deliverDue();
      const [row] = await outboxRows(incident.id);
      expect(row).toMatchObject({ status: 'pending', last_error: 'Slack rate-limited chat.postMessage (429)' });
      expect(row?.next_attempt_at.getTime()).toBe(T0.getTime() + 7_000);
      expect(slack.calls).toHaveLength(1);
      later(6_999);
      expect(await loop.deliverDue()).toBe(0);
      later(1);
      expect(await loop.deliverDue()).toBe(1);
      expect(slack.calls).toHaveLength(2);
      expect((await outboxRows(incident.id))[0]?.status).toBe('delivered');
    } finally {
      close();
    }
  });

  it.each([
    { error: 'channel_not_found', says: 'Slack chat.postMessage answered channel_not_found: the channel does not exist or the bot cannot see it: check owners.<owner>.slack, and invite the bot to a private channel (/invite @pipewarden)' },
    { error: 'not_in_channel', says: 'Slack chat.postMessage answered not_in_channel: the bot is not a member of the channel: invite it (/invite @pipewarden) or give it the chat:write.public scope' },
    { error: 'invalid_auth', says: 'Slack chat.postMessage answered invalid_auth: Slack rejected the bot token: set slack.bot_token to the app\'s current Bot User OAuth Token (xoxb-…)' },
    { error: 'account_inactive', says: 'Slack chat.postMessage answered account_inactive: the bot token belongs to a deactivated app or user: reinstall the Slack app and update slack.bot_token' },
    { error: 'something_new', says: 'Slack chat.postMessage answered something_new' },
  ])('dead-letters $error with a reason that says what to do, and no token anywhere', async ({ error, says }) => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      slack.respondWith([{ status: 200, body: { ok: false, error } }]);
      await loop.deliverDue();
      expect(await outboxRows(incident.id)).toEqual([expect.objectContaining({ status: 'dead', attempts: 1, last_error: says })]);
      const events = await state.pool().query<{ type: string; detail: { error: string } }>("SELECT type, detail FROM incident_events WHERE incident_id = $1 AND type = 'notification_failed'", [incident.id]);
      expect(events.rows).toEqual([{ type: 'notification_failed', detail: expect.objectContaining({ error: says }) }]);
      expect(slack.calls).toHaveLength(1);
      expect(logLines.join('')).toContain(says.replace(/"/g, '\\"').split(':')[0]);
      expect(logLines.join('')).not.toContain(TOKEN);
    } finally {
      close();
    }
  });

  it('escapes mrkdwn in data: a table named <!channel> pings nobody, in the message or its thread', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident('shop.raw.<!channel>', 'shop.raw.<!channel>: stale since <!here> & <https://evil.example|ok>');
      await queue(incident, { type: 'opened' } as IncidentChange);
      await loop.deliverDue();
      await queue(incident, { type: 'reminded' } as IncidentChange);
      await loop.deliverDue();
      expect(slack.calls.map((call) => call.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage']);
      for (const call of slack.calls) {
        const sent = `${String(call.args.text)}\n${blockText(call)}`;
        expect(sent).not.toMatch(/<!|<https:\/\/evil/);
        expect(sent).toContain('shop.raw.&lt;!channel&gt;');
      }
      expect(slack.calls[0]?.args.text).toContain('stale since &lt;!here&gt; &amp; &lt;https://evil.example|ok&gt;');
    } finally {
      close();
    }
  });

  it('shows runbook progress in the message and keeps it there through later changes', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      await queue(incident, { type: 'opened' } as IncidentChange);
      await queue(incident, { type: 'recovery_started', runbook: 'reload-stale-inventory', run: '9', pageHeld: true });
      await queue(incident, { type: 'recovery_failed', runbook: 'reload-stale-inventory', run: '9', reason: 'failed at step verify', attempts: [{ step: 'rerun-loader', action: 'command', status: 'succeeded' }, { step: 'verify', action: 'verify', status: 'failed', error: 'still stale' }] });
      const acked = await acknowledge(incident, 'slack:U7');
      await queue(acked, { type: 'acknowledged', by: 'slack:U7', source: 'slack' });
      for (let pass = 0; pass < 4; pass += 1) await loop.deliverDue();

      expect(slack.calls.map((call) => call.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage', 'chat.update', 'chat.postMessage', 'chat.update', 'chat.postMessage']);
      const updates = slack.calls.filter((call) => call.method === 'chat.update');
      expect(blockText(updates[0])).toContain(`:gear: *Runbook running*: RECOVERING incident #${incident.id} freshness: running runbook reload-stale-inventory (run #9) before paging.`);
      expect(blockText(updates[1])).toContain(':x: *Runbook failed*: RECOVERY FAILED');
      expect(blockText(updates[1])).toContain('• rerun-loader (command): succeeded\\n• verify (verify): failed — still stale');
      expect(blockText(updates[2])).toContain(':x: *Runbook failed*');
      expect(blockText(updates[2])).toContain('acknowledged by slack:U7');
      const replies = slack.calls.filter((call) => call.args.thread_ts === slackTs(1)).map((call) => String(call.args.text).split(':')[0]);
      expect(replies).toEqual([`RECOVERING incident #${incident.id} freshness`, `RECOVERY FAILED incident #${incident.id} freshness`, `ACKNOWLEDGED incident #${incident.id} freshness shop.raw.inventory by slack`]);
    } finally {
      close();
    }
  });
  it('moves a backfill\'s progress bar on the message without replying in the thread, keeps it through notes and clears it when the run ends', async () => {
    const { loop, close } = await outbox();
    try {
      const incident = await openIncident();
      const run = { runbook: 'backfill-inventory-days', run: '12' };
      await queue(incident, { type: 'opened' } as IncidentChange);
      await queue(incident, { type: 'recovery_started', ...run, pageHeld: true });
      await queue(incident, { type: 'runbook_note', ...run, text: 'Backfill 30 days?', approval: { step: 'ask' } });
      await queue(incident, { type: 'runbook_progress', ...run, step: 'backfill', done: 9, total: 30, message: 'backfill 9/30 partitions' });
      await queue(incident, { type: 'runbook_note', ...run, text: 'half way' });
      await queue(incident, { type: 'runbook_progress', ...run, step: 'backfill', done: 30, total: 30, message: 'backfill 30/30 partitions' });
      await queue(incident, { type: 'recovered', ...run });
      for (let pass = 0; pass < 8; pass += 1) await loop.deliverDue();

      const updates = slack.calls.filter((call) => call.method === 'chat.update');
      expect(updates).toHaveLength(6);
      expect(blockText(updates[1])).toContain('pipewarden_approve');
      expect(blockText(updates[2])).toContain('▰▰▰▱▱▱▱▱▱▱ 30% · `backfill`: backfill 9/30 partitions');
      expect(blockText(updates[2]), 'a step runs only once its approval was decided').not.toContain('pipewarden_approve');
      expect(blockText(updates[3])).toContain('half way');
      expect(blockText(updates[3])).toContain('backfill 9/30 partitions');
      expect(blockText(updates[4])).toContain('▰▰▰▰▰▰▰▰▰▰ 100% · `backfill`: backfill 30/30 partitions');
      expect(blockText(updates[5])).toContain('Recovered by runbook');
      expect(blockText(updates[5])).not.toContain('partitions');
      const replies = slack.calls.filter((call) => call.args.thread_ts === slackTs(1)).map((call) => String(call.args.text));
      expect(replies).toHaveLength(4);
      expect(replies.some((reply) => reply.includes('partitions'))).toBe(false);
      expect((await outboxRows(incident.id)).every((row) => row.status === 'delivered')).toBe(true);
    } finally {
      close();
    }
  });
});
