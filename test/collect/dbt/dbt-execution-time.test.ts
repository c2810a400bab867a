// A dbt node's execution time judged against its own history, kept in pipewarden's observations:
// the pipelines job reads run_results.json files written one run after another into a real target
// folder, stores each successful build's time, and warns when a model runs 5× longer than its ten
// runs before; too little history gives no finding; a new collector (a restart) still has the history.

import { chmod, copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineCollector } from '../../../src/collect/pipelines.ts';
import { configSchema, type Config } from '../../../src/config/schema.ts';
import { Metrics } from '../../../src/telemetry/metrics.ts';
import type { Finding } from '../../../src/types.ts';
import { testLogger } from '../../helpers/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts';
import { fixturePath } from './dbt-fixtures.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');
const HOUR = 3_600_000;
const CHECK = 'run:wh.shop.orders:duration';

let state: TestDatabase;
let target: string;
let config: Config;
let run = 0;

function collector(): PipelineCollector {
  return new PipelineCollector({ config, state: state.pool(), logger: testLogger(), metrics: new Metrics({ processMetrics: false }), now: () => new Date(T0 + (run + 1) * HOUR) });
}

/** dbt writes a new run_results.json: orders took `seconds`; a failed top_items is never a duration. */
async function writeRun(seconds: number): Promise<void> {
  run += 1;
  const generatedAt = new Date(T0 + run * HOUR).toISOString();
  const result = (uniqueId: string, status: string, executionTime: number) => ({ unique_id: uniqueId, status, execution_time: executionTime, timing: [], thread_id: 'Thread-1', message: null, adapter_response: {} });
  const file = path.join(target, 'run_results.json');
  await writeFile(
    file,
    JSON.stringify({
      metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json', generated_at: generatedAt, invocation_id: `run-${run}` },
      elapsed_time: seconds + 5,
      results: [result('model.shop.orders', 'success', seconds), result('model.shop.top_items', 'error', 1), result('test.shop.not_null_orders_id', 'pass', 2)],
    }),
  );
  // The reader notices a rewrite by mtime and size; each run gets its own mtime.
  const mtime = new Date(T0 + run * HOUR);
  await utimes(file, mtime, mtime);
}

async function durationOf(source: PipelineCollector): Promise<Finding | undefined> {
  const result = await source.collect(new AbortController().signal);
  return result.findings.find((finding) => finding.check === CHECK);
}

beforeAll(async () => {
  state = await createTestDatabase();
  target = await mkdtemp(path.join(tmpdir(), 'pw-dbt-duration-'));
  await chmod(target, 0o755);
  await copyFile(fixturePath('hand__manifest__v12__derived-monitors.json'), path.join(target, 'manifest.json'));
  config = configSchema.parse({
    warehouses: { wh: { type: 'postgres', url: 'postgres://unused@127.0.0.1:1/unused' } },
    state: { url: state.url },
    dbt: [{ target, warehouse: 'wh' }],
  });
}, 30_000);

afterAll(async () => {
  await state?.drop();
  if (target) await rm(target, { recursive: true, force: true });
});

describe('dbt node execution time', () => {
  const normal = [100, 104, 98, 101, 99, 103, 97, 102, 100, 101];

  it('gives no judgement on fewer than min_history earlier runs, then judges each run against the ones before', async () => {
    const source = collector();
    const verdicts: Array<string | undefined> = [];
    for (const seconds of normal) {
      await writeRun(seconds);
      verdicts.push((await durationOf(source))?.status);
    }
    // Runs 1–5 have 0–4 earlier runs: nothing to say (no finding rather than a guess).
    expect(verdicts).toEqual([undefined, undefined, undefined, undefined, undefined, 'ok', 'ok', 'ok', 'ok', 'ok']);
    const stored = await state.pool().query("SELECT count(*)::int AS n FROM observations WHERE metric = 'dbt_execution_seconds' AND asset = 'wh.shop.orders'");
    expect(stored.rows[0]).toEqual({ n: 10 });
    // Only successful builds of models, seeds and snapshots are timed.
    const others = await state.pool().query("SELECT count(*)::int AS n FROM observations WHERE metric = 'dbt_execution_seconds' AND asset <> 'wh.shop.orders'");
    expect(others.rows[0]).toEqual({ n: 0 });
  });

  it('warns when a model runs five times longer than its last ten runs', async () => {
    await writeRun(500);
    const finding = await durationOf(collector());
    expect(finding).toMatchObject({ kind: 'run', asset: 'wh.shop.orders', status: 'warn', observed: 500, owner: 'orders-team' });
    // Median 100.5 s plus the 60 s minimum excess (the spread of a steady model is smaller).
    expect(finding?.expected).toEqual({ low: null, high: 160.5 });
    expect(finding?.message).toMatch(/^wh\.shop\.orders: dbt model model\.shop\.orders ran for 8m 20s \(usually 1m 40s/);
  });

  it('keeps the history across a restart: a new collector judges the same run alike, and the next normal one ok', async () => {
    const restarted = collector();
    expect((await durationOf(restarted))?.status).toBe('warn');
    await writeRun(102);
    expect(await durationOf(restarted)).toMatchObject({ status: 'ok', observed: 102 });
    // Re-reading a run never doubles it: one point per run.
    const stored = await state.pool().query("SELECT count(*)::int AS n FROM observations WHERE metric = 'dbt_execution_seconds' AND asset = 'wh.shop.orders'");
    expect(stored.rows[0]).toEqual({ n: 12 });
  });
});
