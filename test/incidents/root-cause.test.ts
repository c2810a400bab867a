// Root-cause grouping through applyFindings on a real state database with the scenario lineage
// stored: the orders findings arrive in matter (a symptom before its cause, both in one batch),
// and what reaches the outbox for PagerDuty is checked item by item.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/collect/dbt/dbt-manifest.ts';
import { configSchema } from '../../src/config/schema.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { resolveIncidentById } from '../../src/incidents/manual-actions.ts';
import { lineageFromManifest } from '../../src/lineage/lineage-graph.ts';
import { replaceLineage } from '../../src/store/lineage.ts';
import type { Finding } from '../../src/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { readLineageFixture } from '../lineage/lineage-fixtures.ts';

const SOURCE = 'analytics.raw.store_inventory';
const MODEL = 'analytics.marts.top_items_not_carried';

let state: TestDatabase;
let now: Date;
const config = configSchema.parse({
  warehouses: { analytics: { type: 'postgres', url: 'postgres://unused@127.0.0.1:1/unused' } },
  owners: { feeds: { pagerduty: 'R0UTING-feeds' }, merchandising: { pagerduty: 'R0UTING-merch' } },
  notifications: { default_owner: 'feeds' },
  incidents: { resolve_after: 1 },
});

const stale: Finding = { check: `freshness:${SOURCE}`, kind: 'freshness', asset: SOURCE, status: 'fail', observed: 7200, message: `${SOURCE}: 2h old` };
const failed: Finding = { check: `run:${MODEL}`, kind: 'run', asset: MODEL, status: 'fail', observed: null, message: `${MODEL}: dbt model failed`, owner: 'merchandising' };
const ok = (finding: Finding): Finding => ({ ...finding, status: 'ok', message: 'fine' });

beforeAll(async () => {
  state = await createTestDatabase();
  const { manifest } = parseManifest('manifest.json', readLineageFixture('marketplace-manifest.json'));
  await replaceLineage(state.pool(), lineageFromManifest(manifest, { warehouse: 'analytics' }, 'marketplace'), new Date());
}, 30_000);

afterAll(async () => {
  await state?.drop();
});

beforeEach(async () => {
  await state.pool().query("UPDATE incidents SET status = 'resolved', caused_by = NULL");
  await state.pool().query('DELETE FROM check_tracking');
  now = new Date(Date.UTC(2026, 0, 5, 6, Math.floor(Math.random() * 1000)));
});

const apply = async (findings: Finding[]) => {
  now = new Date(now.getTime() + 60_000);
  return applyFindings(state.pool(), config, findings, now);
};

async function active(asset: string) {
  const { rows } = await state.pool().query<{ id: string; caused_by: string | null; paged_at: Date | null }>("SELECT id::text, caused_by::text, paged_at FROM incidents WHERE asset = $1 AND status <> 'resolved'", [asset]);
  return rows[0];
}

async function pagerDutyItems(incidentId: string): Promise<string[]> {
  const { rows } = await state.pool().query<{ action: string }>("SELECT payload->>'action' AS action FROM outbox WHERE incident_id = $1 AND channel = 'pagerduty' ORDER BY id", [incidentId]);
  return rows.map((row) => row.action);
}

describe('root-cause grouping', () => {
  it('a symptom that paged before its cause was seen is adopted, and its page closed', async () => {
    await apply([failed]);
    const symptom = await active(MODEL);
    expect(await pagerDutyItems(symptom!.id)).toEqual(['trigger']);
    await apply([stale]);
    const cause = await active(SOURCE);
    expect(await active(MODEL)).toMatchObject({ caused_by: cause!.id, paged_at: null });
    expect(await pagerDutyItems(symptom!.id)).toEqual(['trigger', 'resolve']);
    expect(await pagerDutyItems(cause!.id)).toEqual(['trigger']);
  });

  it('in one batch, a symptom judged before its cause never pages', async () => {
    await apply([failed, stale]);
    const cause = await active(SOURCE);
    const symptom = await active(MODEL);
    expect(symptom).toMatchObject({ caused_by: cause!.id, paged_at: null });
    expect(await pagerDutyItems(symptom!.id)).toEqual([]);
    expect(await pagerDutyItems(cause!.id)).toEqual(['trigger']);
  });

  it('a cause resolved by hand releases its symptoms; still failing at their next evaluation, they page, passing they resolve', async () => {
    await apply([stale]);
    await apply([failed]);
    const cause = await active(SOURCE);
    const symptom = await active(MODEL);
    expect(symptom?.caused_by).toBe(cause!.id);
    expect(await pagerDutyItems(symptom!.id)).toEqual([]);

    await resolveIncidentById(state.pool(), config, cause!.id, { by: 'ana', source: 'cli' }, now);
    expect(await active(MODEL)).toMatchObject({ caused_by: null, paged_at: null });
    const { rows } = await state.pool().query<{ type: string }>('SELECT type FROM incident_events WHERE incident_id = $1 ORDER BY id', [symptom!.id]);
    expect(rows.map((row) => row.type)).toContain('released');

    await apply([failed]);
    expect(await pagerDutyItems(symptom!.id)).toEqual(['trigger']);
    const paged = await state.pool().query<{ text: string }>("SELECT payload->>'text' AS text FROM outbox WHERE incident_id = $1 AND channel = 'pagerduty'", [symptom!.id]);
    expect(paged.rows[0]?.text).toMatch(/^STILL FAILING \(critical\) incident #\d+ run after its upstream cause resolved/);
    // Once judged, it is an ordinary incident again: another failing evaluation does not page twice.
    await apply([failed]);
    expect(await pagerDutyItems(symptom!.id)).toEqual(['trigger']);
    await apply([ok(failed)]);
    expect(await active(MODEL)).toBeUndefined();
  });

  it('an incident with nothing upstream or downstream in the lineage is neither grouped nor given a blast radius', async () => {
    const lonely: Finding = { ...stale, check: 'freshness:analytics.raw.elsewhere', asset: 'analytics.raw.elsewhere' };
    await apply([lonely]);
    const { rows } = await state.pool().query("SELECT caused_by, blast_radius FROM incidents WHERE asset = 'analytics.raw.elsewhere' AND status <> 'resolved'");
    expect(rows).toEqual([{ caused_by: null, blast_radius: null }]);
  });
});
