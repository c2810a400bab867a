// `pipewarden incidents` through commander on a real state database: incidents opened by
// applyFindings are listed; ack and resolve change them once, write their timeline, queue the
// notifications (PagerDuty acknowledge/resolve for a paged incident), and say when nothing changed.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { claimRuns, finishRun, insertAttempt, insertRun } from '../../src/store/runbook-runs.ts';
import type { Finding } from '../../src/types.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const T0 = new Date('2025-06-02T08:00:00Z');

let database: TestDatabase;
let dir: string;

const cli = (...args: string[]) => runCliCaptured(args, { env: { DATABASE_URL: database.url }, cwd: dir, now: () => new Date(T0.getTime() + 60_000) });

const failing = (asset: string): Finding => ({ check: `freshness:${asset}`, kind: 'freshness', asset, status: 'fail', observed: 600, message: `${asset}: newest row is 10m old` });

beforeAll(async () => {
  database = await createBlankDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-cli-incidents-'));
  const config = [
    'warehouses:',
    '  shop: { type: postgres, url: "postgres://127.0.0.1:1/warehouse" }',
    'state:',
    '  url: ${DATABASE_URL}',
    'monitors:',
    '  - assets: "shop.*"',
    '    owner: inventory',
    '    freshness: true',
    'owners:',
    '  inventory: { slack: "#inventory-data", pagerduty: routing-key }',
    '',
  ];
  await writeFile(path.join(dir, 'pipewarden.yaml'), config.join('\n'));
  expect((await cli('migrate')).code).toBe(0);
  const { config: loaded } = await loadConfig(path.join(dir, 'pipewarden.yaml'), { DATABASE_URL: database.url });
  await applyFindings(database.pool(), loaded, [failing('shop.orders'), failing('shop.stock')], T0);
});

afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function outboxOf(id: string): Promise<string[]> {
  const { rows } = await database.pool().query<{ item: string }>("SELECT channel || ':' || (payload->>'change') || coalesce(':' || (payload->>'action'), '') AS item FROM pipewarden.outbox WHERE incident_id = $1 ORDER BY id", [id]);
  return rows.map((row) => row.item);
}

describe('pipewarden incidents', () => {
  it('lists the active incidents, as lines and as JSON', async () => {
    const text = await cli('incidents');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toMatch(/^#\d+ open critical freshness:shop\.orders \(owner inventory, opened 2025-06-02T08:00:00\.000Z\): shop\.orders: newest row is 10m old$/m);
    const json = await cli('incidents', 'list', '--json');
    const { incidents } = JSON.parse(json.stdout) as { incidents: Array<Record<string, unknown>> };
    expect(incidents.map((incident) => incident.check)).toEqual(['freshness:shop.stock', 'freshness:shop.orders']);
    expect(incidents[0]).toMatchObject({ status: 'open', severity: 'critical', owner: 'inventory', pagedAt: '2025-06-02T08:00:00.000Z' });
  });

  it('acknowledges once: PagerDuty and the console are told, a second ack changes nothing', async () => {
    const { incidents } = JSON.parse((await cli('incidents', '--json')).stdout) as { incidents: Array<{ id: string; check: string }> };
    const id = incidents.find((incident) => incident.check === 'freshness:shop.orders')?.id as string;
    const ack = await cli('incidents', 'ack', id, '--by', 'ana', '--json');
    expect(ack.code, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ changed: true, incident: { status: 'acknowledged', acknowledgedBy: 'ana' } });
    const again = await cli('incidents', 'ack', id, '--by', 'ben');
    expect(again.stdout.trim()).toBe(`incident #${id} was already acknowledged; nothing changed`);
    expect(await outboxOf(id)).toEqual(['console:opened', 'pagerduty:opened:trigger', 'console:acknowledged', 'pagerduty:acknowledged:acknowledge']);
    const { rows } = await database.pool().query<{ type: string; actor: string | null; source: string }>('SELECT type, actor, source FROM pipewarden.incident_events WHERE incident_id = $1 ORDER BY id', [id]);
    expect(rows.at(-1)).toEqual({ type: 'acknowledged', actor: 'ana', source: 'cli' });
  });

  it('shows an incident with its timeline: opened, acknowledged by whom and from where', async () => {
    const { incidents } = JSON.parse((await cli('incidents', '--status', 'all', '--json')).stdout) as { incidents: Array<{ id: string; check: string }> };
    const id = incidents.find((incident) => incident.check === 'freshness:shop.orders')?.id as string;
    const shown = await cli('incidents', 'show', id);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^#${id} acknowledged by ana critical freshness:shop\\.orders`));
    expect(lines.slice(1).map((line) => line.replace(/^ {2}\S+ /, ''))).toEqual(['opened by pipewarden: shop.orders: newest row is 10m old', 'acknowledged by ana via cli']);
    const json = JSON.parse((await cli('incidents', 'show', id, '--json')).stdout) as { timeline: Array<{ type: string }> };
    expect(json.timeline.map((event) => event.type)).toEqual(['opened', 'acknowledged']);
    expect((await cli('incidents', 'show', '424242')).code).toBe(1);
  });

  it('shows what runbooks tried for the incident, attempt by attempt', async () => {
    const { incidents } = JSON.parse((await cli('incidents', '--json')).stdout) as { incidents: Array<{ id: string; check: string }> };
    const id = incidents.find((incident) => incident.check === 'freshness:shop.stock')?.id as string;
    const pool = database.pool();
    const run = await insertRun(pool, { runbook: 'reload-stock', file: 'reload.yaml', source: 'name: reload-stock', digest: 'x', asset: 'shop.stock', incidentId: id, params: {}, startedBy: `incident #${id}`, deadlineAt: new Date(T0.getTime() + 3_600_000), now: T0 });
    await claimRuns(pool, 'daemon-a', T0, 60_000, 10);
    const at = new Date(T0.getTime() + 1_000);
    await insertAttempt(pool, 'daemon-a', { runId: run.id, stepIndex: 0, step: 'reload', attempt: 1, action: 'command', status: 'failed', inputs: { argv: ['load'] }, error: 'exit 3', startedAt: at, finishedAt: new Date(at.getTime() + 250) });
    await finishRun(pool, run.id, 'daemon-a', 'failed', 'step "reload" (command) failed: exit 3', new Date(at.getTime() + 300));

    const lines = (await cli('incidents', 'show', id)).stdout.trim().split('\n');
    expect(lines.slice(-2)).toEqual([
      expect.stringMatching(new RegExp(`^  runbook run #${run.id} failed reload-stock on shop\\.stock by incident #${id} .*: step "reload" \\(command\\) failed: exit 3$`)),
      `    ${at.toISOString()} step reload (command) attempt 1 failed, 250 ms: exit 3`,
    ]);
    const json = JSON.parse((await cli('incidents', 'show', id, '--json')).stdout) as { runs: Array<{ status: string; attempts: Array<{ step: string; error: string }> }> };
    expect(json.runs).toEqual([expect.objectContaining({ status: 'failed', attempts: [expect.objectContaining({ step: 'reload', error: 'exit 3' })] })]);
  });

  it('resolves by hand: the incident closes, PagerDuty is told, and the check starts a new pending period', async () => {
    const { incidents } = JSON.parse((await cli('incidents', '--json')).stdout) as { incidents: Array<{ id: string; check: string }> };
    const id = incidents.find((incident) => incident.check === 'freshness:shop.stock')?.id as string;
    const resolved = await cli('incidents', 'resolve', id, '--by', 'ana');
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toMatch(new RegExp(`^#${id} resolved by ana critical freshness:shop\\.stock`));
    expect((await outboxOf(id)).slice(-2)).toEqual(['console:resolved_by_hand', 'pagerduty:resolved_by_hand:resolve']);
    const { rows } = await database.pool().query<{ incident_id: string | null; tracking: { streaks: Record<string, number> } }>(
      "SELECT incident_id, tracking FROM pipewarden.check_tracking WHERE check_id = 'freshness:shop.stock'",
    );
    expect(rows[0]).toMatchObject({ incident_id: null, tracking: { streaks: { warn: 0, error: 0, fail: 0 } } });
    expect((await cli('incidents', '--status', 'resolved', '--json')).stdout).toContain('"resolvedBy": "ana"');
  });

  it('says which incident does not exist, for any id, without touching anything', async () => {
    for (const id of ['99999', "1'; DROP TABLE pipewarden.incidents; --"]) {
      const missing = await cli('incidents', 'resolve', id);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('error [incident_not_found]: No incident #');
    }
    expect((await cli('incidents', '--status', 'all', '--json')).code).toBe(0);
  });

  it('refuses a limit that is not a positive number', async () => {
    const outcome = await cli('incidents', 'list', '--limit', '0');
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--limit must be a positive whole number');
  });
});
