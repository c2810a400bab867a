// The pipelines job on real files and a real state database: a dbt target folder is read and
// judged (re-read only when a file changes), its findings stored and carrying the owner dbt gives;
// a broken artifact is reported once, not every tick; an Airflow database that cannot be reached
// is counted and logged while the other sources are still read.

import { chmod, copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineCollector } from '../../src/collect/pipelines.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { AirflowScheduler, createAirflowTables } from './airflow/airflow-tables.ts';
import { fixturePath } from './dbt/dbt-fixtures.ts';

const NOW = new Date('2021-12-07T10:50:34Z');

let state: TestDatabase;
let target: string;
let collector: PipelineCollector;
let metrics: Metrics;
const logLines: Array<{ level: string; msg: string }> = [];

beforeAll(async () => {
  state = await createTestDatabase();
  target = await mkdtemp(path.join(tmpdir(), 'pw-dbt-target-'));
  await chmod(target, 0o755);
  await copyFile(fixturePath('hand__manifest__v7__jaffle_shop-classic.json'), path.join(target, 'manifest.json'));
  await copyFile(fixturePath('hand__run_results__v4__jaffle_shop__fail-warn-skip.json'), path.join(target, 'run_results.json'));
  const config = configSchema.parse({
    warehouses: { bq: { type: 'postgres', url: 'postgres://unused@127.0.0.1:1/unused' } },
    state: { url: state.url },
    dbt: [{ target, warehouse: 'bq' }],
    // Nothing listens on port 1: this Airflow cannot be read.
    airflow: [{ name: 'down', url: 'postgres://airflow@127.0.0.1:1/airflow', connect_timeout: '1s' }],
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  metrics = new Metrics({ processMetrics: false });
  collector = new PipelineCollector({ config, state: state.pool(), logger: createLogger({ level: 'info', destination }), metrics, now: () => NOW });
}, 30_000);

afterAll(async () => {
  await collector?.close();
  await state?.drop();
  if (target) await rm(target, { recursive: true, force: true });
});

const collect = () => collector.collect(new AbortController().signal);

describe('the pipelines job', () => {
  it('judges the dbt target, keeps going past an unreachable Airflow, and stores what changed', async () => {
    const result = await collect();
    expect(result).toMatchObject({ sources: 2, failed: 1 });
    expect(result.changedManifests).toHaveLength(1);
    const failing = result.findings.filter((finding) => finding.status !== 'ok').map((finding) => [finding.check, finding.status]);
    expect(failing).toContainEqual(['run:bq.dbt_jaffle.stg_payments', 'fail']);
    expect(failing).toContainEqual(['run:bq.dbt_jaffle.orders', 'warn']);
    // dbt's meta.owner rides along for routing.
    expect(result.findings.find((finding) => finding.check === 'run:bq.dbt_jaffle.orders')?.owner).toBe('orders-team');

    const stored = await state.pool().query<{ check_id: string; status: string }>("SELECT check_id, status FROM findings WHERE check_id = 'run:bq.dbt_jaffle.stg_payments'");
    expect(stored.rows).toEqual([{ check_id: 'run:bq.dbt_jaffle.stg_payments', status: 'fail' }]);
    const scrape = await metrics.render();
    expect(scrape).toMatch(new RegExp(`pipewarden_pipeline_source_up\\{kind="dbt",source="${target.replace(/[/.]/g, '\\$&')}"\\} 1`));
    expect(scrape).toContain('pipewarden_pipeline_source_up{kind="airflow",source="down"} 0');
    expect(scrape).toContain('pipewarden_collection_errors_total{source="airflow"} 1');
    expect(scrape).toMatch(/pipewarden_findings\{kind="run",status="fail"\} [1-9]/);
    expect(logLines.some((line) => line.level === 'error' && line.msg.startsWith('could not read airflow source down'))).toBe(true);
  });

  it('does not re-read unchanged artifacts nor store unchanged verdicts again', async () => {
    const before = await state.pool().query('SELECT count(*)::int AS n FROM findings');
    const result = await collect();
    expect(result.changedManifests).toEqual([]);
    const after = await state.pool().query('SELECT count(*)::int AS n FROM findings');
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  it('reports a broken artifact once, naming the file, and still judges the rest of the target', async () => {
    const runResults = path.join(target, 'run_results.json');
    await writeFile(runResults, '{ "metadata": {');
    const later = new Date(Date.now() + 5_000);
    await utimes(runResults, later, later);
    const first = await collect();
    const second = await collect();
    const reports = logLines.filter((line) => line.level === 'error' && line.msg.includes('run_results.json'));
    expect(reports).toHaveLength(1);
    expect(first.failed).toBe(1); // only the Airflow: a broken file is a problem of the target, not an unreadable source
    expect(second.findings.every((finding) => !finding.check.startsWith('run:bq.'))).toBe(true);
  });
});

describe('the pipelines job on a real Airflow 3 metadata database', () => {
  it('turns a failed task into a finding owned by the source\'s owner, and an incident routed to them', async () => {
    const airflowDb = await createBlankDatabase();
    const now = new Date();
    try {
      await createAirflowTables(airflowDb.pool(), 3);
      const airflow = new AirflowScheduler(airflowDb.pool(), 3);
      await airflow.addDag('load_inventory', { nextRunAt: new Date(now.getTime() + 3_600_000) });
      const runId = await airflow.createRun('load_inventory', new Date(now.getTime() - 600_000));
      await airflow.startRun('load_inventory', runId, new Date(now.getTime() - 590_000));
      await airflow.setTask('load_inventory', runId, 'load_store_inventory', 'failed', 3);
      await airflow.finishRun('load_inventory', runId, 'failed', new Date(now.getTime() - 60_000));
      const config = configSchema.parse({
        warehouses: { wh: { type: 'postgres', url: 'postgres://unused@127.0.0.1:1/unused' } },
        state: { url: state.url },
        owners: { 'data-eng': {} },
        airflow: [{ name: 'prod', url: airflowDb.url, owner: 'data-eng' }],
      });
      const airflowCollector = new PipelineCollector({ config, state: state.pool(), logger: createLogger({ level: 'silent' }), metrics: new Metrics({ processMetrics: false }), now: () => now });
      try {
        const result = await airflowCollector.collect(new AbortController().signal);
        expect(result.failed).toBe(0);
        const task = result.findings.find((finding) => finding.check === 'run:airflow:load_inventory:load_store_inventory');
        expect(task).toMatchObject({ status: 'fail', asset: 'airflow:load_inventory', owner: 'data-eng' });
        expect(task?.message).toContain('try 3');
        await applyFindings(state.pool(), config, result.findings, now);
        const { rows } = await state.pool().query("SELECT owner FROM incidents WHERE check_id = 'run:airflow:load_inventory:load_store_inventory' AND status <> 'resolved'");
        expect(rows).toEqual([{ owner: 'data-eng' }]);
      } finally {
        await airflowCollector.close();
      }
    } finally {
      await airflowDb.drop();
    }
  });
});
