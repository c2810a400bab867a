// Two checks failing on one table (its size collapsed, its prices went NULL) both match the
// rollback runbook; only the first incident starts a run. The second is told the run under way
// (a timeline entry naming it) and is not held back from paging, since no run of its own will
// conclude it. Real state database, real runbook runtime.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import type { Finding } from '../../src/types.ts';
import { openRunbookTestRuntime, type RunbookTestRuntime } from './runbook-test-runtime.ts';

const ASSET = 'wh.analytics.top_items';
const volume: Finding = { check: `volume:${ASSET}`, kind: 'volume', asset: ASSET, status: 'fail', observed: 0, message: `${ASSET}: 0 rows` };
const distribution: Finding = { check: `distribution:${ASSET}:price`, kind: 'distribution', asset: ASSET, column: 'price', status: 'fail', observed: 1, message: `${ASSET}: price is all NULL` };

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'rollback.yaml': `name: rollback
match: { checks: [volume, distribution], assets: ["*.analytics.top_items"] }
steps:
  - name: hold
    action: wait
    with: { for: 10m }
`,
  });
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

describe('one run of a runbook per asset at a time', () => {
  it('starts the rollback for the first incident only, and tells the second which run is under way', async () => {
    const { pool } = rt.runtime.state;
    const first = await applyFindings(pool, rt.runtime.config, [volume], new Date(), rt.runbooks.recovery);
    expect(first.runsStarted).toBe(1);
    const second = await applyFindings(pool, rt.runtime.config, [distribution], new Date(), rt.runbooks.recovery);
    expect(second.runsStarted).toBe(0);

    const runs = await pool.query<{ id: string; incident_id: string }>('SELECT id::text, incident_id::text FROM runbook_runs');
    expect(runs.rows).toHaveLength(1);
    const { rows } = await pool.query<{ detail: Record<string, unknown> }>(
      "SELECT e.detail FROM incident_events e JOIN incidents i ON i.id = e.incident_id WHERE i.check_id = $1 AND e.type = 'runbook_already_running'",
      [distribution.check],
    );
    expect(rows).toEqual([{ detail: expect.objectContaining({ runbook: 'rollback', run: runs.rows[0]?.id, incident: runs.rows[0]?.incident_id }) }]);
    expect(String(rows[0]?.detail.message)).toBe(`runbook rollback is already recovering ${ASSET} (run #${runs.rows[0]?.id} for incident #${runs.rows[0]?.incident_id}); no second run is started`);
  });
});
