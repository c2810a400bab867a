// Monitors dbt's configuration derives, end to end on real files and real databases: a runtime
// reads a dbt target folder holding a manifest whose source has loaded_at_field and freshness, and
// a real sweep of a real warehouse judges that table's freshness with no hand-written monitor;
// meta.pipewarden's volume check reaches the profile; a bad meta.pipewarden is logged by name
// while the rest apply; a hand-written monitor for the same table wins.

import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProfile } from '../../../src/collect/profile.ts';
import { runSweep } from '../../../src/collect/sweep.ts';
import { configSchema, type ConfigInput } from '../../../src/config/schema.ts';
import { openRuntime, type Runtime } from '../../../src/runtime.ts';
import { createLogger } from '../../../src/telemetry/logger.ts';
import { Metrics } from '../../../src/telemetry/metrics.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts';
import { fixturePath } from './dbt-fixtures.ts';

const HOUR = 3_600_000;
const NOW = new Date('2026-01-05T12:00:00Z');

let state: TestDatabase;
let warehouseDb: TestDatabase;
let target: string;
const runtimes: Runtime[] = [];
const logLines: Array<{ level: string; msg: string }> = [];

async function write(sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: warehouseDb.url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A runtime whose dbt target maps to `warehouse` (a name of its own, so its assets are its own). */
async function runtimeFor(warehouse: string, monitors: ConfigInput['monitors'] = []): Promise<Runtime> {
  const config = configSchema.parse({
    warehouses: { [warehouse]: { type: 'postgres', url: warehouseDb.url } },
    state: { url: state.url },
    monitors,
    dbt: [{ target, warehouse }],
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  const runtime = await openRuntime({ config, logger: createLogger({ level: 'warn', destination }), metrics: new Metrics({ processMetrics: false }), now: () => NOW });
  runtimes.push(runtime);
  return runtime;
}

async function sweep(runtime: Runtime) {
  return (await runSweep(await runtime.loadSweepContext(), new AbortController().signal)).findings;
}

beforeAll(async () => {
  [state, warehouseDb] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  target = await mkdtemp(path.join(tmpdir(), 'pw-dbt-derived-'));
  await chmod(target, 0o755);
  await copyFile(fixturePath('hand__manifest__v12__derived-monitors.json'), path.join(target, 'manifest.json'));
  await write(`
    create schema raw;
    create table raw.inventory_feed (id int, loaded_at timestamptz not null);
    create schema shop;
    create table shop.orders (id int, loaded_at timestamptz not null);
  `);
  // The feed's newest row is 7 hours old: past dbt's error_after of 6 hours.
  await write('insert into raw.inventory_feed values (1, $1)', [new Date(NOW.getTime() - 7 * HOUR)]);
  await write("insert into shop.orders select g, $1::timestamptz - g * interval '1 hour' from generate_series(1, 48) g", [NOW]);
}, 60_000);

afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
  await Promise.all([state?.drop(), warehouseDb?.drop()]);
  if (target) await rm(target, { recursive: true, force: true });
});

describe('monitors derived from the dbt manifest, in a real sweep', () => {
  it('fails the freshness of a source older than its error_after, with no hand-written monitor, then passes once fresh', async () => {
    const runtime = await runtimeFor('wh');
    const stale = (await sweep(runtime)).find((finding) => finding.check === 'freshness:wh.raw.inventory_feed');
    expect(stale).toMatchObject({ status: 'fail', asset: 'wh.raw.inventory_feed' });

    await write('insert into raw.inventory_feed values (2, $1)', [new Date(NOW.getTime() - 10 * 60_000)]);
    const fresh = (await sweep(runtime)).find((finding) => finding.check === 'freshness:wh.raw.inventory_feed');
    expect(fresh?.status).toBe('ok');
    // The owner dbt names routes the incident: the runtime's config sees the derived monitors too.
    expect(runtime.config.monitors.find((monitor) => monitor.assets[0] === 'wh.raw.inventory_feed')?.owner).toBe('inventory-team');
  });

  it('profiles the volume check meta.pipewarden asks for, and names the bad tuning while the rest apply', async () => {
    const runtime = await runtimeFor('tuned');
    const profile = await runProfile(await runtime.loadSweepContext(), new AbortController().signal);
    expect(profile.findings.map((finding) => finding.check)).toContain('volume:tuned.shop.orders');
    const problems = logLines.filter((line) => line.level === 'error').map((line) => line.msg);
    expect(problems).toContainEqual(
      `${path.join(target, 'manifest.json')}: model.shop.daily_sales: meta.pipewarden.volume.bucket: expected a duration like "1h", got "hourly"; this node's meta.pipewarden is not applied`,
    );
    // Said once per manifest, not on every load.
    const said = () => logLines.filter((line) => line.msg.includes('model.shop.daily_sales')).length;
    const before = said();
    await runtime.loadSweepContext();
    await runSweep(await runtime.loadSweepContext(), new AbortController().signal);
    expect(said()).toBe(before);
  });

  it('lets a hand-written monitor win for a table dbt also covers', async () => {
    await write('truncate raw.inventory_feed');
    await write('insert into raw.inventory_feed values (1, $1)', [new Date(NOW.getTime() - 7 * HOUR)]);
    const runtime = await runtimeFor('hand', [{ assets: 'hand.raw.*', freshness: { column: 'loaded_at', warn_after: '30d' } }]);
    const findings = (await sweep(runtime)).filter((finding) => finding.check === 'freshness:hand.raw.inventory_feed');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ status: 'ok', expected: { high: 30 * 24 * 3600 } });
  });
});
