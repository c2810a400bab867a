// The escalation policy end to end, in real daemons: stale feeds in a real warehouse, sweeps
// every second, runbooks matched to the incidents, and a real HTTPS PagerDuty server on loopback.
// A runbook that reloads the feed and verifies recovers without anyone being paged; a runbook that
// fails pages with what it tried; with `recover_first: []` the page goes out at once and is then
// updated with the run's record.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { startPagerDutyTestServer, type PagerDutyTestServer, type RecordedRequest } from '../helpers/pagerduty-server.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const ROUTING_KEY = 'R0UTING-KEY-feeds';
const NODE = process.execPath;

const RELOAD_AND_VERIFY = `name: reload-feed
match: { checks: [freshness], assets: ["shop.raw.recovers"], when: "finding.status == 'fail'" }
steps:
  - name: reload
    action: sql
    with:
      statement: "insert into {{table}} (id, loaded_at) values ($1, now())"
      identifiers: { table: ["\${asset.schema}", "\${asset.table}"] }
      params: [2]
  - name: verify
    action: verify
    with: { within: 20s, every: 1s }
  - name: give-up
    action: escalate
    if: "steps.verify.outcome != 'passed'"
    with: { reason: "feed still stale after reload" }
`;

const FAILING = `name: try-and-fail
match: { checks: [freshness], assets: ["shop.raw.stays_broken"] }
steps:
  - name: reload
    action: command
    retry: { attempts: 2, backoff: "100ms..200ms" }
    with: { argv: ["${NODE}", "-e", "process.exit(3)"] }
`;

interface Setup {
  state: TestDatabase;
  warehouse: TestDatabase;
  pagerduty: PagerDutyTestServer;
  daemon: RunningDaemon;
  dir: string;
}

async function setUp(tables: string[], runbooks: Record<string, string>, extra: Partial<ConfigInput> = {}): Promise<Setup> {
  const [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  const ddl = tables.map((table) => `create table raw.${table} (id int, loaded_at timestamptz); insert into raw.${table} values (1, now() - interval '1 hour');`).join(' ');
  await warehouse.pool().query(`create schema raw; ${ddl}`);
  const pagerduty = await startPagerDutyTestServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-escalation-'));
  await writeFile(path.join(dir, 'ca.pem'), pagerduty.certificate.cert);
  await mkdir(path.join(dir, 'runbooks'));
  for (const [name, text] of Object.entries(runbooks)) await writeFile(path.join(dir, 'runbooks', name), text);
  const config = daemonConfig(state.url, { shop: warehouse.url }, {
    warehouses: { shop: { type: 'postgres', url: warehouse.url, write_url: warehouse.url, connect_timeout: '2s' } },
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *' },
    monitors: [{ assets: 'shop.raw.*', owner: 'feeds', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: { feeds: { pagerduty: ROUTING_KEY } },
    pagerduty: { events_host: pagerduty.host, ca_file: path.join(dir, 'ca.pem') },
    incidents: { resolve_after: 1 },
    ...extra,
    runbooks: { folder: path.join(dir, 'runbooks'), lease: '5s', ...extra.runbooks },
  });
  const daemon = await startDaemon({ config, env: {}, logger: testLogger() });
  return { state, warehouse, pagerduty, daemon, dir };
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  await setup?.daemon.stop('test finished');
  await setup?.pagerduty.stop();
  await Promise.all([setup?.state.drop(), setup?.warehouse.drop()]);
  if (setup?.dir) await rm(setup.dir, { recursive: true, force: true });
}

const eventOf = (request: RecordedRequest) =>
  request.body as { event_action: string; dedup_key: string; payload?: { summary: string; custom_details?: { runbook_attempts?: Array<Record<string, unknown>> } } };

async function timeline(state: TestDatabase, asset: string): Promise<string[]> {
  const { rows } = await state.pool().query<{ type: string }>(
    'SELECT e.type FROM pipewarden.incident_events e JOIN pipewarden.incidents i ON i.id = e.incident_id WHERE i.asset = $1 ORDER BY e.id',
    [asset],
  );
  return rows.map((row) => row.type);
}

async function runOf(state: TestDatabase, runbook: string): Promise<{ status: string; started_by: string; outcome: string | null } | undefined> {
  const { rows } = await state.pool().query("SELECT status, started_by, outcome FROM pipewarden.runbook_runs WHERE runbook = $1 AND status NOT IN ('queued', 'running')", [runbook]);
  return rows[0];
}

describe('recover first, page only when recovery fails', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(['recovers', 'stays_broken'], { 'reload.yaml': RELOAD_AND_VERIFY, 'fail.yaml': FAILING });
  }, 60_000);
  afterAll(() => tearDown(setup));

  it('recovers a stale feed by reloading and verifying, and pages no one for it', async () => {
    const run = await waitUntil(() => runOf(setup.state, 'reload-feed'), 60_000, 'the reload run ending', 200);
    expect(run).toMatchObject({ status: 'succeeded', started_by: expect.stringMatching(/^incident #\d+$/) });
    await waitUntil(async () => ((await timeline(setup.state, 'shop.raw.recovers')).includes('runbook_recovered') ? true : undefined), 20_000, 'the recovery on the timeline', 200);
    const events = await timeline(setup.state, 'shop.raw.recovers');
    expect(events.slice(0, 2)).toEqual(['opened', 'runbook_started']);
    expect(events).toContain('resolved');
    const { rows } = await setup.state.pool().query("SELECT status, paged_at FROM pipewarden.incidents WHERE asset = 'shop.raw.recovers'");
    expect(rows[0]).toMatchObject({ status: 'resolved', paged_at: null });
    const metrics = await (await fetch(`${setup.daemon.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/pipewarden_runbook_recoveries_total\{runbook="reload-feed"\} 1/);
  }, 90_000);

  it('pages once the other runbook has failed, with every attempt it made', async () => {
    await waitUntil(() => runOf(setup.state, 'try-and-fail'), 60_000, 'the failing run ending', 200);
    const [request] = await setup.pagerduty.waitForRequests(1, 20_000);
    const event = eventOf(request as RecordedRequest);
    expect(event.event_action).toBe('trigger');
    expect(event.payload?.summary).toMatch(/^RECOVERY FAILED incident #\d+ freshness: runbook try-and-fail \(run #\d+\) step "reload" \(command\) failed/);
    expect(event.payload?.custom_details?.runbook_attempts).toEqual([
      expect.objectContaining({ step: 'reload', attempt: 1, status: 'failed' }),
      expect.objectContaining({ step: 'reload', attempt: 2, status: 'failed' }),
    ]);
    // Nothing reached PagerDuty before the run had failed: the one request is this trigger,
    // and the recovered feed never paged at all.
    expect(setup.pagerduty.requests).toHaveLength(1);
    expect(await timeline(setup.state, 'shop.raw.stays_broken')).toEqual(expect.arrayContaining(['opened', 'runbook_started', 'runbook_escalated']));
  }, 90_000);
});

describe('page at once for severities left out of recover_first', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(['stays_broken'], { 'fail.yaml': FAILING }, { runbooks: { recover_first: ['warning'] } as never });
  }, 60_000);
  afterAll(() => tearDown(setup));

  it('pages when the incident opens and updates the page with the run record when the run fails', async () => {
    const requests = await setup.pagerduty.waitForRequests(2, 60_000);
    const [first, second] = requests.map((request) => eventOf(request));
    expect(first?.payload?.summary).toMatch(/^OPENED \(critical\)/);
    expect(second?.payload?.summary).toMatch(/^RECOVERY FAILED/);
    expect(second?.dedup_key).toBe(first?.dedup_key);
    expect(second?.payload?.custom_details?.runbook_attempts).toHaveLength(2);
  }, 90_000);
});
