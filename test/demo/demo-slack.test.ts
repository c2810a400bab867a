// The demo's broken inventory feed, played from Slack as an on-call person would (issue 6's
// "done when"): a real `pipewarden demo` process whose Slack Web API is a recording fake on
// 127.0.0.1 and whose Slack endpoints get real signed requests. Break the feed; the incidents'
// messages appear in their owners' channels, the feed's naming the derived table's three
// consumers (the demo's dbt lineage) and the collapse grouped under it as its cause; the rollback runbook shows its progress and asks on
// the message; Approve is clicked; the table is rolled back and the message ends recovered; the
// collapse is marked expected so the size check does not learn it; the feed (its reload runbook
// fails: the feed moved to a new table) is silenced while the inventory team migrates, then
// resolved by hand. Every step is a line in the incident's thread and in `pipewarden incidents`.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_ACTIONS_PATH, SLACK_COMMANDS_PATH } from '../../src/chat/slack-receiver.ts';
import { signSlackRequest } from '../../src/chat/slack-signature.ts';
import { SLACK_ACTIONS } from '../../src/notify/slack-message.ts';
import { isAlive, readPostmasterPid } from '../../src/store/leftover-server.ts';
import { runPipewarden, spawnDemo, within, type DemoProcess } from '../helpers/demo-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { startSlackApiTestServer, type SlackApiCall, type SlackApiTestServer } from '../helpers/slack-api-server.ts';
import { blockActionsBody, slashCommandBody } from '../helpers/slack-requests.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const INVENTORY = 'marketplace.raw.store_inventory';
const TOP_ITEMS = 'marketplace.analytics.top_items_not_carried';
const SECRET = 'demo-slack-signing-secret';
const ON_CALL = 'U0ONCALL';
// As in demo-command.test.ts: the size check of top_items_not_carried judges after three complete 30 s buckets.
const LEARNING_MS = 4 * 30_000 + 5_000;

let dir: string;
let postgresPort: number;
let httpPort: number;
let slack: SlackApiTestServer;
let answers: RecordingHttpServer;
let demo: DemoProcess | undefined;
let postmasterPid: number | undefined;
let sent = 0;

async function signedPost(route: string, body: string): Promise<number> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) };
  return (await fetch(`http://127.0.0.1:${httpPort}${route}`, { method: 'POST', headers, body })).status;
}

/** Types `/pipewarden TEXT`; resolves to the answer posted to its response_url. */
async function slash(text: string): Promise<string> {
  sent += 1;
  const responseUrl = `${answers.url}/r/${sent}`;
  expect(await signedPost(SLACK_COMMANDS_PATH, slashCommandBody(text, { userId: ON_CALL, responseUrl }))).toBe(200);
  return answerAt(`/r/${sent}`);
}

async function click(actionId: string, value: string): Promise<string> {
  sent += 1;
  expect(await signedPost(SLACK_ACTIONS_PATH, blockActionsBody(actionId, value, { userId: ON_CALL, responseUrl: `${answers.url}/r/${sent}`, triggerId: `t${sent}` }))).toBe(200);
  return answerAt(`/r/${sent}`);
}

async function answerAt(route: string): Promise<string> {
  const request = await waitUntil(async () => answers.requests.find((candidate) => candidate.path === route), 20_000, `the answer at ${route}`);
  return String((request.body as { text?: unknown }).text);
}

/** The incident's message: the first root post naming `#ID kind asset`; resolves to its id and channel. */
async function incidentMessage(kind: string, asset: string, timeoutMs: number): Promise<{ id: string; channel: string }> {
  const pattern = new RegExp(`#(\\d+) ${kind} ${asset.replace(/\./g, '\\.')}:`);
  return waitUntil(async () => {
    const root = slack.calls.find((call) => call.method === 'chat.postMessage' && call.args.thread_ts === undefined && pattern.test(String(call.args.text)));
    return root === undefined ? undefined : { id: pattern.exec(String(root.args.text))?.[1] as string, channel: String(root.args.channel) };
  }, timeoutMs, `the ${kind} incident message for ${asset}`);
}

const updatesOf = (id: string): SlackApiCall[] => slack.calls.filter((call) => call.method === 'chat.update' && String(call.args.text).includes(`#${id} `));
const threadOf = (id: string): string[] =>
  slack.calls.filter((call) => call.method === 'chat.postMessage' && call.args.thread_ts !== undefined && String(call.args.text).includes(`#${id} `)).map((call) => String(call.args.text));

function waitForThreadLine(id: string, head: string, timeoutMs: number): Promise<string> {
  return waitUntil(async () => threadOf(id).find((line) => line.startsWith(head)), timeoutMs, `"${head}…" in the thread of #${id}`);
}

function waitForUpdate(id: string, fragment: string, timeoutMs: number): Promise<SlackApiCall> {
  return waitUntil(async () => updatesOf(id).find((call) => JSON.stringify(call.args.blocks).includes(fragment)), timeoutMs, `an edit of #${id}'s message showing ${fragment}`);
}

beforeAll(async () => {
  // The embedded server runs as the `postgres` OS user when tests run as root; mkdtemp makes 0700.
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-demo-slack-'));
  await chmod(dir, 0o755);
  [postgresPort, httpPort, slack, answers] = await Promise.all([freePort(), freePort(), startSlackApiTestServer(), startRecordingHttpServer()]);
});

afterAll(async () => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.child.kill('SIGTERM');
    await within(demo.exited, 20_000, 'demo shutdown').catch(() => demo?.child.kill('SIGKILL'));
  }
  if (postmasterPid !== undefined && isAlive(postmasterPid)) {
    process.kill(postmasterPid, 'SIGINT');
    for (let waited = 0; waited < 10_000 && isAlive(postmasterPid); waited += 100) await sleep(100);
  }
  await Promise.all([slack?.stop(), answers?.stop()]);
  await rm(dir, { recursive: true, force: true });
}, 40_000);

describe('the demo played from Slack', () => {
  it('break the inventory feed, approve the rollback, mark the collapse expected, silence and resolve the feed — all in the threads and in pipewarden incidents', async () => {
    demo = spawnDemo(['--data-dir', dir, '--postgres-port', String(postgresPort), '--http-port', String(httpPort)], {
      SLACK_BOT_TOKEN: 'xoxb-demo-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.url,
    });
    await demo.waitForMessage(/^swept \d+ tables in warehouse marketplace$/, 60_000);
    const firstSweepAt = Date.now();
    postmasterPid = (await readPostmasterPid(path.join(dir, 'pgdata')))?.pid;
    await sleep(Math.max(0, firstSweepAt + LEARNING_MS - Date.now()));

    const breaker = spawnDemo(['--break', 'inventory-feed', '--data-dir', dir, '--postgres-port', String(postgresPort)]);
    expect((await within(breaker.exited, 30_000, 'demo --break')).code, breaker.output()).toBe(0);

    // The messages appear, each in its owner's channel.
    const feed = await incidentMessage('freshness', INVENTORY, 60_000);
    const collapse = await incidentMessage('volume', TOP_ITEMS, 90_000);
    expect(feed.channel).toBe('#inventory-data');
    expect(collapse.channel).toBe('#analytics-oncall');
    // The demo's dbt lineage: the feed is the cause, with the derived table's three consumers as
    // its blast radius; the collapse joins it (its message says so) instead of paging on its own.
    const feedMessage = JSON.stringify(slack.calls.filter((call) => String(call.args.text).includes(`#${feed.id} `)).map((call) => call.args.blocks));
    for (const consumer of ["Account managers' dashboard", 'CRM email sync', 'Retailer app']) expect(feedMessage).toContain(consumer);
    expect(feedMessage).toContain('*Blast radius*: 1 downstream model (marketplace.analytics.top_items_not_carried) and 3 exposures');
    await waitUntil(async () => slack.calls.find((call) => String(call.args.text).includes(`#${collapse.id} `) && JSON.stringify(call.args.blocks).includes(`*Caused upstream* by incident #${feed.id}`)), 60_000, 'the collapse grouped under the feed');
    await waitForThreadLine(feed.id, `JOINED incident #${feed.id} freshness: incident #${collapse.id} (volume:${TOP_ITEMS})`, 30_000);

    // The rollback runbook runs on the collapse and asks on its message; Approve is clicked.
    await waitForUpdate(collapse.id, ':gear: *Runbook running*', 30_000);
    const asking = await waitForUpdate(collapse.id, 'pipewarden_approval_', 30_000);
    const approval = /"value":"(\d+:ask)"/.exec(JSON.stringify(asking.args.blocks))?.[1] as string;
    expect(await click(SLACK_ACTIONS.approve, approval)).toMatch(/^Step `ask` of run #\d+ \(rollback-top-items\) approved\.$/);
    await waitForThreadLine(collapse.id, `RUNBOOK rollback-top-items (run #${approval.split(':')[0]}) on incident #${collapse.id} volume: step ask approved by ${ON_CALL}`, 30_000);
    const recovered = await waitForUpdate(collapse.id, 'Recovered by runbook', 120_000);
    expect(JSON.stringify(recovered.args.blocks)).not.toContain('pipewarden_approval_');
    await waitForThreadLine(collapse.id, `RECOVERED incident #${collapse.id} volume by runbook rollback-top-items`, 10_000);

    // The collapse was a known failure: keep its bucket out of the size check's baseline.
    expect(await slash(`expected ${collapse.id}`)).toMatch(new RegExp(`^Marked expected by <@${ON_CALL}>: the \\S+ bucket of \`volume:${TOP_ITEMS.replace(/\./g, '\\.')}\` leaves its baseline\\.$`));
    await waitForThreadLine(collapse.id, `MARKED EXPECTED incident #${collapse.id} volume ${TOP_ITEMS} by ${ON_CALL} (slack)`, 15_000);

    // The feed's reload runbook cannot help (its rows land in the migrated table): the message says so.
    await waitForUpdate(feed.id, ':x: *Runbook failed*', 180_000);
    await waitForThreadLine(feed.id, `RECOVERY FAILED incident #${feed.id} freshness`, 10_000);
    // The inventory team is migrating: silence the noisy feed, then resolve its incident.
    expect(await slash(`silence ${INVENTORY} 1h inventory team is migrating to store_inventory_v2`)).toMatch(new RegExp(`^Silence #\\d+ \\(covers incident #${feed.id}\\): asset`));
    await waitForThreadLine(feed.id, `SILENCED incident #${feed.id} freshness ${INVENTORY} by ${ON_CALL} (slack)`, 15_000);
    expect(await click(SLACK_ACTIONS.resolve, feed.id)).toBe(`Resolved incident #${feed.id} (\`freshness:${INVENTORY}\`).`);
    await waitForThreadLine(feed.id, `RESOLVED incident #${feed.id} freshness ${INVENTORY} by ${ON_CALL} (slack)`, 15_000);
    await waitForUpdate(feed.id, `resolved by ${ON_CALL}`, 15_000);

    // The terminal tells the same story.
    const cliConfig = path.join(dir, 'pipewarden.yaml');
    const collapseShown = await runPipewarden(['incidents', 'show', collapse.id, '--config', cliConfig]);
    expect(collapseShown.code, collapseShown.stderr).toBe(0);
    expect(collapseShown.stdout).toContain(`runbook_approval by ${ON_CALL} via slack`);
    expect(collapseShown.stdout).toMatch(/runbook run #\d+ succeeded rollback-top-items/);
    expect(collapseShown.stdout).toContain(`marked_expected by ${ON_CALL} via slack`);
    const feedShown = await runPipewarden(['incidents', 'show', feed.id, '--config', cliConfig]);
    expect(feedShown.code, feedShown.stderr).toBe(0);
    expect(feedShown.stdout).toMatch(/runbook run #\d+ (failed|escalated) reload-stale-inventory/);
    expect(feedShown.stdout).toContain(`silenced by ${ON_CALL} via slack: inventory team is migrating to store_inventory_v2`);
    expect(feedShown.stdout).toContain(`resolved by ${ON_CALL} via slack`);
    const listed = await runPipewarden(['incidents', '--status', 'all', '--config', cliConfig, '--json']);
    const { incidents } = JSON.parse(listed.stdout) as { incidents: Array<{ id: string; status: string }> };
    expect(incidents.find((incident) => incident.id === feed.id)?.status).toBe('resolved');
    expect(incidents.find((incident) => incident.id === collapse.id)?.status).toBe('resolved');

    // One message per incident, however many times each changed.
    for (const id of [feed.id, collapse.id]) {
      expect(slack.calls.filter((call) => call.method === 'chat.postMessage' && call.args.thread_ts === undefined && String(call.args.text).includes(`#${id} `))).toHaveLength(1);
    }
  }, 9 * 60_000);
});
