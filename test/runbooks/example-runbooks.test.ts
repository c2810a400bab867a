// The runbooks shipped in runbooks/ (the ones the demo runs) load cleanly with every action
// this build has, point editors at the published schema, and match the demo's incidents.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/runbooks/actions/registry.ts';
import { loadRunbooks } from '../../src/runbooks/load-runbooks.ts';
import { matchRunbook } from '../../src/runbooks/match-runbooks.ts';
import type { Finding } from '../../src/types.ts';
import { testLogger } from '../helpers/logger.ts';

const FOLDER = fileURLToPath(new URL('../../runbooks/', import.meta.url));

function failing(kind: Finding['kind'], asset: string): Finding {
  return { check: `${kind}:${asset}`, kind, asset, status: 'fail', observed: 0, message: 'broken' };
}

describe('runbooks/', () => {
  it('loads without a problem', async () => {
    const { runbooks, problems } = await loadRunbooks(FOLDER, ACTIONS);
    expect(problems).toEqual([]);
    expect(runbooks.map((runbook) => runbook.definition.name).sort()).toEqual(['backfill-inventory-days', 'reload-stale-inventory', 'restart-orders-loader', 'rollback-top-items']);
    for (const runbook of runbooks) expect(await readFile(runbook.file, 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/schema\.json$/m);
  });

  it("matches the demo's incidents to the runbook that recovers them, and nothing else", async () => {
    const { runbooks } = await loadRunbooks(FOLDER, ACTIONS);
    const incident = { id: '1', severity: 'critical', status: 'open', owner: null };
    const match = (finding: Finding) => matchRunbook(runbooks, { finding, incident }, testLogger())?.definition.name;
    expect(match(failing('freshness', 'marketplace.raw.store_inventory'))).toBe('reload-stale-inventory');
    expect(match(failing('volume', 'marketplace.shop.orders'))).toBe('restart-orders-loader');
    expect(match({ ...failing('freshness', 'marketplace.raw.store_inventory'), status: 'warn' })).toBeUndefined();
    expect(match(failing('volume', 'marketplace.analytics.top_items_not_carried'))).toBe('rollback-top-items');
    expect(match(failing('distribution', 'marketplace.analytics.top_items_not_carried'))).toBe('rollback-top-items');
    expect(match(failing('freshness', 'marketplace.analytics.top_items_not_carried'))).toBeUndefined();
  });
});
