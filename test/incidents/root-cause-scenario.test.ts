// Root-cause grouping in a real daemon, the scenario: a stale source feeds three models
// (one of them through an ephemeral model) and two exposures. The source's freshness incident
// pages once, naming the five downstream assets; when the next dbt run fails the three models,
// their incidents join the source's instead of paging. When the source is fixed they are judged on
// their own again: still failing (dbt has not re-run), they page; a passing dbt run resolves them.
//
// Real parts: embedded PostgreSQL for state and warehouse, dbt artifacts in a target folder the
// pipelines job reads, a TLS PagerDuty Events API stand-in on 127.0.0.1 recording what it gets.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { startPagerDutyTestServer, type PagerDutyTestServer, type RecordedRequest } from '../helpers/pagerduty-server.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const MANIFEST = path.join(import.meta.dirname, '../fixtures/lineage/marketplace-manifest.json');
const SOURCE = 'analytics.raw.store_inventory';
const MODELS = ['analytics.staging.stg_inventory', 'analytics.marts.carried_counts', 'analytics.marts.top_items_not_carried'];
const KEYS = { 'inventory-feed': 'R0UTING-inventory-feed', 'inventory-team': 'R0UTING-inventory-team', merchandising: 'R0UTING-merchandising' };

let state: TestDatabase;
let warehouse: TestDatabase;
let pagerduty: PagerDutyTestServer;
let daemon: RunningDaemon;
let dir: string;

interface PagerDutyEvent {
  event_action: string;
  dedup_key: string;
  routing_key: string;
  payload?: { summary: string; source: string; custom_details?: { blast_radius?: Record<string, unknown> } };
}

const events = (): PagerDutyEvent[] => pagerduty.requests.map((request: RecordedRequest) => request.body as PagerDutyEvent);
const triggers = (): PagerDutyEvent[] => events().filter((event) => event.event_action === 'trigger');

/** A run_results.json (v6) in which each model has the given status. */
function runResults(status: 'error' | 'success', at: Date): string {
  const results = ['model.marketplace.stg_inventory', 'model.marketplace.carried_counts', 'model.marketplace.top_items_not_carried'].map((uniqueId) => ({
    status,
    timing: [],
    thread_id: 'Thread-1',
    execution_time: 2.5,
    adapter_response: {},
    message: status === 'error' ? 'Database Error: inventory snapshot for today is missing' : 'SELECT 120',
    failures: null,
    unique_id: uniqueId,
    compiled: true,
  }));
  return JSON.stringify({
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json', dbt_version: '1.9.0', generated_at: at.toISOString(), invocation_id: `run-${at.getTime()}` },
    results,
    elapsed_time: 9.1,
    args: {},
  });
}

async function incidentOn(asset: string): Promise<{ id: string; caused_by: string | null; status: string; paged_at: Date | null }> {
  return waitUntil(async () => {
    const { rows } = await state.pool().query("SELECT id::text, caused_by::text, status, paged_at FROM pipewarden.incidents WHERE asset = $1 AND status <> 'resolved' ORDER BY id DESC LIMIT 1", [asset]);
    return rows[0];
  }, 20_000, `an active incident on ${asset}`);
}

async function eventTypes(incidentId: string): Promise<string[]> {
  const { rows } = await state.pool().query<{ type: string }>('SELECT type FROM pipewarden.incident_events WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return rows.map((row) => row.type);
}

beforeAll(async () => {
  [state, warehouse, pagerduty] = await Promise.all([createTestDatabase(), createBlankDatabase(), startPagerDutyTestServer()]);
  await warehouse.pool().query("create schema raw; create table raw.store_inventory (sku int, loaded_at timestamptz); insert into raw.store_inventory values (1, now() - interval '2 hours')");
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-root-cause-'));
  await copyFile(MANIFEST, path.join(dir, 'manifest.json'));
  await writeFile(path.join(dir, 'ca.pem'), pagerduty.certificate.cert);
  await mkdir(path.join(dir, 'no-runbooks'));
  const config = daemonConfig(state.url, { analytics: warehouse.url }, {
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *', pipelines: '* * * * * *' },
    monitors: [{ assets: SOURCE, owner: 'inventory-feed', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: Object.fromEntries(Object.entries(KEYS).map(([owner, key]) => [owner, { pagerduty: key }])),
    pagerduty: { events_host: pagerduty.host, ca_file: path.join(dir, 'ca.pem') },
    incidents: { resolve_after: 1 },
    dbt: [{ target: dir, warehouse: 'analytics' }],
    // No runbooks: this is about paging (the repository's own runbooks/ would match the source).
    runbooks: { folder: path.join(dir, 'no-runbooks') },
  });
  daemon = await startDaemon({ config, env: {}, logger: testLogger() });
}, 60_000);

afterAll(async () => {
  await daemon?.stop('test finished');
  await pagerduty?.stop();
  await Promise.all([state?.drop(), warehouse?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a stale source under three models and two exposures', () => {
  it('pages once for the source, naming its five downstream assets, and groups the models\' failures under it', async () => {
    const source = await incidentOn(SOURCE);
    const page = await waitUntil(async () => triggers().find((event) => event.routing_key === KEYS['inventory-feed']), 20_000, 'the source\'s page');
    expect(page.payload?.source).toBe(SOURCE);
    expect(page.payload?.summary).toContain('Blast radius: 3 downstream models');
    expect(page.payload?.custom_details?.blast_radius).toMatchObject({
      downstream_assets: 3,
      downstream_exposures: 2,
      assets: expect.arrayContaining(MODELS.map((asset) => expect.objectContaining({ asset }))),
      exposures: expect.arrayContaining([
        expect.objectContaining({ name: "Account managers' dashboard", type: 'dashboard', owner: 'account-management' }),
        expect.objectContaining({ name: 'CRM email sync', owner: 'crm@example.com' }),
      ]),
    });

    // The next dbt run fails every model that reads the source: they join its incident.
    await writeFile(path.join(dir, 'run_results.json'), runResults('error', new Date()));
    const symptoms = await Promise.all(MODELS.map((asset) => incidentOn(asset)));
    for (const symptom of symptoms) expect(symptom.caused_by, `the incident on ${symptom.id}`).toBe(source.id);
    // A few more ticks of both jobs: still the one page, and nobody else's routing key was used.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(triggers()).toHaveLength(1);
    expect(events().every((event) => event.routing_key === KEYS['inventory-feed'])).toBe(true);
    expect((await eventTypes(source.id)).filter((type) => type === 'symptom_joined')).toHaveLength(3);
    for (const symptom of symptoms) expect(await eventTypes(symptom.id)).toContain('grouped');

    // At the terminal: the cause names what it explains and who reads it; a symptom names its cause.
    await writeFile(path.join(dir, 'cli.yaml'), `warehouses:\n  analytics: { type: postgres, url: "${warehouse.url}" }\nstate:\n  url: "${state.url}"\n`);
    const shown = await runCliCaptured(['incidents', 'show', source.id, '--config', path.join(dir, 'cli.yaml')], { cwd: dir, env: {} });
    expect(shown.stdout).toContain('Explains 3 downstream incidents: ');
    expect(shown.stdout).toContain('Blast radius: 3 downstream models (');
    for (const asset of MODELS) expect(shown.stdout).toContain(asset);
    expect(shown.stdout).toContain("Account managers' dashboard (dashboard, owner: account-management)");
    expect(shown.stdout).toContain('CRM email sync (application, owner: crm@example.com)');
    const symptomShown = await runCliCaptured(['incidents', 'show', symptoms[0]?.id as string, '--config', path.join(dir, 'cli.yaml')], { cwd: dir, env: {} });
    expect(symptomShown.stdout).toContain(`Caused upstream by incident #${source.id}`);
    expect(symptomShown.stdout).toMatch(new RegExp(`grouped by pipewarden: caused upstream by incident #${source.id} \\(freshness:${SOURCE.replace(/\./g, '\\.')} on `));
  }, 60_000);

  it('judges the models on their own once the source is fixed: still failing, they page; a passing dbt run resolves them', async () => {
    const source = await incidentOn(SOURCE);
    await warehouse.pool().query('insert into raw.store_inventory values (2, now())');
    await waitUntil(async () => ((await state.pool().query("SELECT 1 FROM pipewarden.incidents WHERE id = $1 AND status = 'resolved'", [source.id])).rowCount === 1 ? true : undefined), 20_000, 'the source resolved');

    // dbt has not re-run: the models still fail, now each on its own, and each pages its owner.
    const pagedModels = await waitUntil(async () => {
      const { rows } = await state.pool().query<{ asset: string }>("SELECT asset FROM pipewarden.incidents WHERE asset = ANY($1::text[]) AND status <> 'resolved' AND caused_by IS NULL AND paged_at IS NOT NULL", [MODELS]);
      return rows.length === MODELS.length ? rows : undefined;
    }, 20_000, 'the released models paging');
    expect(pagedModels).toHaveLength(3);
    const byOwner = await waitUntil(async () => {
      const delivered = triggers().filter((event) => event.routing_key !== KEYS['inventory-feed']);
      return delivered.length >= MODELS.length ? delivered : undefined;
    }, 10_000, 'the models\' pages delivered');
    expect(byOwner.map((event) => event.routing_key).sort()).toEqual([KEYS['inventory-team'], KEYS.merchandising, KEYS.merchandising].sort());
    expect(byOwner.every((event) => event.payload?.summary.startsWith('STILL FAILING'))).toBe(true);

    await writeFile(path.join(dir, 'run_results.json'), runResults('success', new Date(Date.now() + 1_000)));
    await waitUntil(async () => {
      const { rows } = await state.pool().query("SELECT 1 FROM pipewarden.incidents WHERE asset = ANY($1::text[]) AND status <> 'resolved'", [MODELS]);
      return rows.length === 0 ? true : undefined;
    }, 20_000, 'the models resolved');
    await waitUntil(async () => (events().filter((event) => event.event_action === 'resolve').length >= 4 ? true : undefined), 10_000, 'PagerDuty told of every resolution');
  }, 60_000);
});
