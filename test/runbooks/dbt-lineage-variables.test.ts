// A runbook reaches the dbt lineage through `asset.dbt`: a step can rebuild the failed node and
// everything downstream of it (`dbt build --select ${asset.dbt.selector}+`). Here a real run on a
// real state database with the scenario manifest's lineage stored, its command step echoing the
// selectors it was given; an asset the lineage does not know has no `asset.dbt` (a `has()` guard).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/collect/dbt/dbt-manifest.ts';
import { lineageFromManifest } from '../../src/lineage/lineage-graph.ts';
import { replaceLineage } from '../../src/store/lineage.ts';
import { readLineageFixture } from '../lineage/lineage-fixtures.ts';
import { openRunbookTestRuntime, type RunbookTestRuntime } from './runbook-test-runtime.ts';

const NODE = process.execPath;
const ECHO = 'console.log(process.argv.slice(1).join(" "))';

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'rebuild.yaml': `name: rebuild
steps:
  - name: selectors
    action: command
    with:
      argv: ["${NODE}", "-e", '${ECHO}', "\${has(asset.dbt) ? asset.dbt.selector + '+' : 'none'}", "\${has(asset.dbt) ? asset.dbt.unique_id : 'none'}"]
`,
  });
  const { manifest } = parseManifest('manifest.json', readLineageFixture('marketplace-manifest.json'));
  await replaceLineage(rt.runtime.state.pool, lineageFromManifest(manifest, { warehouse: 'analytics' }, 'marketplace'), new Date());
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

async function echoed(asset: string): Promise<string> {
  const run = await rt.start('rebuild', { asset });
  expect(await rt.execute(run.id)).toMatchObject({ status: 'succeeded' });
  const [attempt] = await rt.attempts(run.id);
  return String((attempt?.outputs as { stdout_tail?: unknown }).stdout_tail).trim();
}

describe('asset.dbt in runbooks', () => {
  it('names a model by its name and a source as source:<source>.<table>, with the unique_id', async () => {
    expect(await echoed('analytics.marts.top_items_not_carried')).toBe('top_items_not_carried+ model.marketplace.top_items_not_carried');
    expect(await echoed('analytics.raw.store_inventory')).toBe('source:raw.store_inventory+ source.marketplace.raw.store_inventory');
  });

  it('is absent for an asset no manifest describes', async () => {
    expect(await echoed('analytics.public.unknown')).toBe('none none');
  });
});
