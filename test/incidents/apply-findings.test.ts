// Findings → incidents on a real state database: one incident per failing check, its timeline,
// and exactly the outbox items each change causes (console always; PagerDuty only for paging
// severities, then its resolve); silences suppress; a flapping check makes one notice.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { insertSilence } from '../../src/store/silences.ts';
import type { Finding, FindingStatus } from '../../src/types.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const MINUTE = 60_000;
const T0 = new Date('2025-06-02T08:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * MINUTE);

let state: TestDatabase;

beforeAll(async () => {
  state = await createTestDatabase();
});

afterAll(async () => {
  await state?.drop();
});

function config(extra: Partial<ConfigInput> = {}) {
  return daemonConfig(state.url, { shop: 'postgres://unused@127.0.0.1:1/shop' }, {
    monitors: [{ assets: 'shop.*', owner: 'inventory-team', freshness: true }],
    owners: { 'inventory-team': { slack: '#inventory-data', pagerduty: 'routing-key-inventory' } },
    incidents: { pending: { fail: 1, warn: 2, error: 3 }, resolve_after: 2, flapping: { window: '1h', max_changes: 4 } },
    ...extra,
  });
}

const finding = (asset: string, status: FindingStatus, message = `${asset} is ${status}`): Finding => ({
  check: `freshness:${asset}`,
  kind: 'freshness',
  asset,
  status,
  observed: 1,
  message,
});

async function outbox(asset: string): Promise<Array<{ channel: string; change: string; action: string | null }>> {
  const { rows } = await state.pool().query<{ channel: string; change: string; action: string | null }>(
    `SELECT o.channel, o.payload->>'change' AS change, o.payload->>'action' AS action
     FROM outbox o JOIN incidents i ON i.id = o.incident_id WHERE i.asset = $1 ORDER BY o.id`,
    [asset],
  );
  return rows;
}

async function incidents(asset: string) {
  const { rows } = await state.pool().query<{ id: string; status: string; severity: string; dedup_key: string; paged_at: Date | null; flapping: boolean }>(
    'SELECT id, status, severity, dedup_key, paged_at, flapping FROM incidents WHERE asset = $1 ORDER BY id',
    [asset],
  );
  return rows;
}

async function play(asset: string, statuses: readonly FindingStatus[], extra: Partial<ConfigInput> = {}, startMinute = 0): Promise<void> {
  let minute = startMinute;
  for (const status of statuses) await applyFindings(state.pool(), config(extra), [finding(asset, status)], at(minute++));
}

describe('applyFindings', () => {
  it('opens one incident for a failing check, pages once, and resolves it after two passes', async () => {
    await play('shop.orders', ['ok', 'fail', 'fail', 'fail', 'ok', 'ok', 'ok']);
    const [incident, ...others] = await incidents('shop.orders');
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ status: 'resolved', severity: 'critical', paged_at: at(1) });
    expect(incident?.dedup_key).toBe(`pipewarden/${incident?.id}/freshness:shop.orders`);
    expect(await outbox('shop.orders')).toEqual([
      { channel: 'console', change: 'opened', action: null },
      { channel: 'pagerduty', change: 'opened', action: 'trigger' },
      { channel: 'console', change: 'resolved', action: null },
      { channel: 'pagerduty', change: 'resolved', action: 'resolve' },
    ]);
    const { rows: timeline } = await state.pool().query<{ type: string }>('SELECT type FROM incident_events WHERE incident_id = $1 ORDER BY id', [incident?.id]);
    expect(timeline.map((event) => event.type)).toEqual(['opened', 'status_changed', 'resolved']);
  });

  it('keeps a warning on Slack and the console, and pages only when it turns critical', async () => {
    await play('shop.stock', ['warn', 'warn', 'warn', 'fail', 'ok', 'ok']);
    expect(await incidents('shop.stock')).toMatchObject([{ status: 'resolved', severity: 'critical', paged_at: at(3) }]);
    expect((await outbox('shop.stock')).filter((item) => item.channel !== 'console')).toEqual([
      { channel: 'pagerduty', change: 'severity_raised', action: 'trigger' },
      { channel: 'pagerduty', change: 'resolved', action: 'resolve' },
    ]);
  });

  it('never tells PagerDuty about an incident that never paged', async () => {
    await play('shop.prices', ['warn', 'warn', 'ok', 'ok']);
    expect(await incidents('shop.prices')).toMatchObject([{ status: 'resolved', severity: 'warning', paged_at: null }]);
    expect((await outbox('shop.prices')).map((item) => item.channel)).toEqual(['console', 'console']);
  });

  it('pages on warnings for a monitor that asks to, and never for one that opts out', async () => {
    const monitors: ConfigInput['monitors'] = [
      { assets: 'shop.critical_feed', owner: 'inventory-team', freshness: true, page_on: ['warning', 'critical'] },
      { assets: 'shop.scratch', owner: 'inventory-team', freshness: true, page_on: [] },
      { assets: 'shop.*', owner: 'inventory-team', freshness: true },
    ];
    await play('shop.critical_feed', ['warn', 'warn'], { monitors });
    await play('shop.scratch', ['fail', 'fail'], { monitors });
    expect((await outbox('shop.critical_feed')).filter((item) => item.channel === 'pagerduty')).toEqual([{ channel: 'pagerduty', change: 'opened', action: 'trigger' }]);
    expect((await outbox('shop.scratch')).map((item) => item.channel)).toEqual(['console']);
  });

  it('waits longer for the kinds configured to', async () => {
    // A failing evaluation also counts toward the warning streak, so both wait for three.
    const incidentsSettings = { pending: { fail: 1, warn: 2, error: 3 }, pending_by_kind: { freshness: { fail: 3, warn: 3 } } };
    await play('shop.patient', ['fail', 'fail'], { incidents: incidentsSettings });
    expect(await incidents('shop.patient')).toEqual([]);
    await play('shop.patient', ['fail'], { incidents: incidentsSettings }, 2);
    expect(await incidents('shop.patient')).toMatchObject([{ status: 'open', severity: 'critical' }]);
  });

  it('gives a flapping check one notice, not a storm', async () => {
    const statuses: FindingStatus[] = [];
    for (let cycle = 0; cycle < 10; cycle += 1) statuses.push('fail', 'ok', 'ok');
    await play('shop.flappy', statuses);
    const items = await outbox('shop.flappy');
    expect(items.filter((item) => item.change === 'flapping' && item.channel === 'console')).toHaveLength(1);
    // Two opens and two resolves (four changes), then the flapping notice; then quiet.
    expect(items.filter((item) => item.channel === 'pagerduty').map((item) => item.action)).toEqual(['trigger', 'resolve', 'trigger', 'resolve', 'trigger']);
    expect(await incidents('shop.flappy')).toHaveLength(3);
    expect((await incidents('shop.flappy')).at(-1)).toMatchObject({ status: 'open', flapping: true });
  });

  it('suppresses notifications under a silence, still opening the incident, and notifies again once it expires', async () => {
    await insertSilence(state.pool(), { assetGlobs: ['shop.silent*'], checkGlobs: [], startsAt: at(0), endsAt: at(10), reason: 'migration', createdBy: 'ana' }, at(0));
    await play('shop.silent', ['fail', 'fail']);
    const [incident] = await incidents('shop.silent');
    expect(incident).toMatchObject({ status: 'open', paged_at: null });
    expect(await outbox('shop.silent')).toEqual([]);
    const { rows } = await state.pool().query<{ type: string; detail: { reason?: string } }>('SELECT type, detail FROM incident_events WHERE incident_id = $1 ORDER BY id', [incident?.id]);
    expect(rows.map((row) => row.type)).toEqual(['opened', 'notification_suppressed']);
    expect(rows[1]?.detail.reason).toBe('migration');

    await play('shop.silent', ['ok', 'ok'], {}, 20);
    expect(await outbox('shop.silent')).toEqual([{ channel: 'console', change: 'resolved', action: null }]);
  });

  it('keeps quiet inside a configured maintenance window', async () => {
    const maintenance = { maintenance: [{ assets: ['shop.vacuumed'], cron: '0 8 * * *', duration: '30m', reason: 'nightly vacuum' }] };
    const incidentsSettings = { pending: { fail: 1, warn: 2, error: 3 }, resolve_after: 2, flapping: { window: '1h', max_changes: 4 }, ...maintenance };
    await play('shop.vacuumed', ['fail'], { incidents: incidentsSettings });
    expect(await incidents('shop.vacuumed')).toMatchObject([{ status: 'open' }]);
    expect(await outbox('shop.vacuumed')).toEqual([]);
    // After the window, its recovery is told as usual.
    await play('shop.vacuumed', ['ok', 'ok'], { incidents: incidentsSettings }, 40);
    expect(await outbox('shop.vacuumed')).toEqual([{ channel: 'console', change: 'resolved', action: null }]);
  });

  it('opens exactly one incident when two jobs apply the same check at once', async () => {
    const both = await Promise.all([
      applyFindings(state.pool(), config(), [finding('shop.raced', 'fail')], at(0)),
      applyFindings(state.pool(), config(), [finding('shop.raced', 'fail')], at(0)),
    ]);
    expect(both.map((outcome) => outcome.opened).sort()).toEqual([0, 1]);
    expect(await incidents('shop.raced')).toHaveLength(1);
  });

  it('writes nothing for checks that stay ok', async () => {
    await play('shop.calm', ['ok']);
    const before = await state.pool().query<{ evaluated_at: Date }>("SELECT evaluated_at FROM check_tracking WHERE check_id = 'freshness:shop.calm'");
    await play('shop.calm', ['ok', 'ok', 'ok'], {}, 5);
    const after = await state.pool().query<{ evaluated_at: Date }>("SELECT evaluated_at FROM check_tracking WHERE check_id = 'freshness:shop.calm'");
    // The second evaluation caps the ok streak; from then on the row is left alone.
    expect(after.rows[0]?.evaluated_at).toEqual(at(5));
    expect(before.rows).toHaveLength(1);
  });
});
