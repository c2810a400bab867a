// The Airflow check against real Airflow 2 and Airflow 3 tables in PostgreSQL, driven through the
// states the scheduler writes: failed, retried and recovered tasks, a failed run, a long run, a
// queued run that never starts, a run the scheduler never creates, a paused DAG and a hostile DAG id.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airflowSourceSchema } from '../../../src/collect/airflow/airflow-config.ts';
import { AirflowReader, openAirflowPool } from '../../../src/collect/airflow/airflow-reader.ts';
import { collectAirflowFindings } from '../../../src/collect/airflow/collect-airflow-findings.ts';
import { withReadSession } from '../../../src/warehouse/postgres-session.ts';
import type { Finding } from '../../../src/types.ts';
import { createBlankDatabase } from '../../helpers/postgres.ts';
import type { TestDatabase } from '../../helpers/postgres.ts';
import { testLogger } from '../../helpers/logger.ts';
import { AirflowScheduler, createAirflowTables } from './airflow-tables.ts';
import type { AirflowVersion } from './airflow-tables.ts';

const NOW = new Date('2025-06-02T12:00:00Z');
const TODAY_RUN = 'scheduled__2025-06-02T08:00:00+00:00';
const HOSTILE = `it's"; rm -rf / --`;
const at = (iso: string) => new Date(iso);
const daysBefore = (days: number, hour = 8) => new Date(Date.UTC(2025, 5, 2 - days, hour));
const minutesBefore = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

function byCheck(findings: readonly Finding[]): Map<string, Finding> {
  return new Map(findings.map((finding) => [finding.check, finding]));
}

describe.each([2, 3] as AirflowVersion[])('Airflow %i metadata database', (version) => {
  let db: TestDatabase;
  let scheduler: AirflowScheduler;
  let reader: AirflowReader;

  beforeAll(async () => {
    db = await createBlankDatabase();
    await createAirflowTables(db.pool(), version);
    scheduler = new AirflowScheduler(db.pool(), version);
    const tomorrow = daysBefore(-1);
    for (const dag of ['load_inventory', 'retrying', 'slow_dag', 'stuck_queue', HOSTILE, 'ignored_dag', 'old_failure']) {
      await scheduler.addDag(dag, { nextRunAt: tomorrow, nextLogicalDate: tomorrow });
    }
    await scheduler.addDag('no_scheduler', { nextRunAt: at('2025-06-02T11:00:00Z'), nextLogicalDate: at('2025-06-02T11:00:00Z') });
    await scheduler.addDag('paused_dag', { paused: true, nextRunAt: at('2025-06-01T08:00:00Z'), nextLogicalDate: at('2025-06-01T08:00:00Z') });

    for (let day = 10; day >= 1; day--) {
      await scheduler.successfulRun('load_inventory', daysBefore(day), 19 + (day % 3));
      await scheduler.successfulRun('slow_dag', daysBefore(day, 10), 9 + (day % 3));
    }
    // Today's load: extract succeeds, the load fails on its third and last try, the run fails.
    await scheduler.createRun('load_inventory', daysBefore(0));
    await scheduler.startRun('load_inventory', TODAY_RUN, daysBefore(0));
    await scheduler.setTask('load_inventory', TODAY_RUN, 'extract', 'success', 1);
    for (const attempt of [1, 2]) await scheduler.setTask('load_inventory', TODAY_RUN, 'load_store_inventory', 'up_for_retry', attempt);
    await scheduler.setTask('load_inventory', TODAY_RUN, 'load_store_inventory', 'failed', 3);
    await scheduler.setTask('load_inventory', TODAY_RUN, 'publish', 'upstream_failed', 0);
    await scheduler.finishRun('load_inventory', TODAY_RUN, 'failed', at('2025-06-02T08:21:00Z'));

    const retrying = await scheduler.createRun('retrying', minutesBefore(10));
    await scheduler.startRun('retrying', retrying, minutesBefore(10));
    await scheduler.setTask('retrying', retrying, 'flaky', 'up_for_retry', 1);

    // Usually ~10 minutes; today's started two hours ago and is still running.
    const slow = await scheduler.createRun('slow_dag', daysBefore(0, 10));
    await scheduler.startRun('slow_dag', slow, daysBefore(0, 10));
    await scheduler.setTask('slow_dag', slow, 'work', 'running', 1);

    await scheduler.createRun('stuck_queue', minutesBefore(40));

    const pausedRun = await scheduler.createRun('paused_dag', daysBefore(0, 6));
    await scheduler.startRun('paused_dag', pausedRun, daysBefore(0, 6));
    await scheduler.setTask('paused_dag', pausedRun, 'work', 'failed', 1);
    await scheduler.finishRun('paused_dag', pausedRun, 'failed', daysBefore(0, 7));

    for (const dag of [HOSTILE, 'ignored_dag']) {
      const run = await scheduler.createRun(dag, daysBefore(0, 9));
      await scheduler.startRun(dag, run, daysBefore(0, 9));
      await scheduler.setTask(dag, run, `task '; drop table dag; --`, 'failed', 2);
      await scheduler.finishRun(dag, run, 'failed', daysBefore(0, 10));
    }

    // Failed two days ago, outside the default 1d lookback: old news, not judged again.
    const old = await scheduler.createRun('old_failure', daysBefore(2));
    await scheduler.startRun('old_failure', old, daysBefore(2));
    await scheduler.setTask('old_failure', old, 'work', 'failed', 1);
    await scheduler.finishRun('old_failure', old, 'failed', daysBefore(2, 9));

    const source = airflowSourceSchema.parse({ name: 'main', url: db.url, exclude: ['ignored_*'], owner: 'inventory-team' });
    reader = new AirflowReader(source, testLogger());
  });

  afterAll(async () => {
    await reader?.close();
    await db?.drop();
  });

  it('tells the schema version from the columns it finds', async () => {
    const { version: found } = await collectAirflowFindings(reader, NOW);
    expect(found).toBe(version);
  });

  it('fails a failed task with its try and run, a task skipped by it, and the failed run', async () => {
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    expect(findings.get('run:airflow:load_inventory:load_store_inventory')).toMatchObject({
      kind: 'run',
      asset: 'airflow:load_inventory',
      status: 'fail',
      observed: 3,
      bucket: '2025-06-02T08:00:00.000Z',
      message: `airflow:load_inventory: task load_store_inventory failed on try 3 in run ${TODAY_RUN}`,
    });
    expect(findings.get('run:airflow:load_inventory:publish')?.status).toBe('fail');
    expect(findings.get('run:airflow:load_inventory:extract')?.status).toBe('ok');
    expect(findings.get('run:airflow:load_inventory')).toMatchObject({
      status: 'fail',
      message: `airflow:load_inventory: run ${TODAY_RUN} failed (failed tasks: load_store_inventory)`,
    });
    // 21 minutes against a usual 19–21: not a long run.
    expect(findings.get('run:airflow:load_inventory:duration')?.status).toBe('ok');
    expect(findings.get('run:airflow:load_inventory:schedule')?.status).toBe('ok');
  });

  it('warns while a task waits for a retry', async () => {
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    expect(findings.get('run:airflow:retrying:flaky')).toMatchObject({ status: 'warn', observed: 1 });
    expect(findings.has('run:airflow:retrying')).toBe(false);
  });

  it('fails a run still going at twelve times its usual duration, with the range in seconds', async () => {
    const finding = byCheck((await collectAirflowFindings(reader, NOW)).findings).get('run:airflow:slow_dag:duration');
    expect(finding).toMatchObject({ status: 'fail', observed: 7200 });
    expect(finding?.expected?.high).toBeGreaterThan(600);
    expect(finding?.expected?.high).toBeLessThan(1200);
    expect(finding?.message).toMatch(/^airflow:slow_dag: run scheduled__2025-06-02T10:00:00\+00:00 has been running for 2h \(usually 10m/);
  });

  it('fails a run queued past the grace and a run the scheduler never created', async () => {
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    expect(findings.get('run:airflow:stuck_queue:schedule')).toMatchObject({ status: 'fail', observed: 2400, expected: { low: null, high: 900 } });
    expect(findings.get('run:airflow:stuck_queue:schedule')?.message).toContain('has been queued for 40m without starting');
    expect(findings.get('run:airflow:no_scheduler:schedule')).toMatchObject({ status: 'fail', observed: 3600 });
    expect(findings.get('run:airflow:no_scheduler:schedule')?.message).toBe(
      'airflow:no_scheduler: the run for 2025-06-02T11:00:00.000Z was due at 2025-06-02T11:00:00.000Z and was never created (1h late, allowed 15m); check that the Airflow scheduler is running',
    );
  });

  it('judges nothing of a paused DAG or an excluded one', async () => {
    const { findings } = await collectAirflowFindings(reader, NOW);
    expect(findings.filter((finding) => finding.asset === 'airflow:paused_dag' || finding.asset === 'airflow:ignored_dag')).toEqual([]);
  });

  it('does not judge a run that ended before the lookback', async () => {
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    expect([...findings.keys()].filter((check) => check.startsWith('run:airflow:old_failure'))).toEqual(['run:airflow:old_failure:schedule']);
  });

  it('keeps a DAG id with quotes and a shell command as plain data', async () => {
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    const asset = `airflow:${HOSTILE}`;
    expect(findings.get(`run:${asset}:task '; drop table dag; --`)).toMatchObject({ asset, status: 'fail', observed: 2 });
    expect(findings.get(`run:${asset}`)?.status).toBe('fail');
    const { rows } = await db.pool().query<{ n: number }>('select count(*)::int as n from dag');
    expect(rows[0]?.n).toBe(9);
  });

  it('resolves when the task is cleared and succeeds, and when the long run ends', async () => {
    await scheduler.setTask('load_inventory', TODAY_RUN, 'load_store_inventory', 'running', 4);
    await scheduler.finishRun('load_inventory', TODAY_RUN, 'failed', at('2025-06-02T08:21:00Z'));
    await scheduler.setTask('load_inventory', TODAY_RUN, 'load_store_inventory', 'success', 4);
    await scheduler.setTask('load_inventory', TODAY_RUN, 'publish', 'success', 1);
    await scheduler.finishRun('load_inventory', TODAY_RUN, 'success', at('2025-06-02T08:21:00Z'));
    await scheduler.finishRun('slow_dag', 'scheduled__2025-06-02T10:00:00+00:00', 'success', at('2025-06-02T11:30:00Z'));
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    expect(findings.get('run:airflow:load_inventory:load_store_inventory')).toMatchObject({ status: 'ok', observed: 4 });
    expect(findings.get('run:airflow:load_inventory')?.status).toBe('ok');
    // Finished: late, not stuck.
    expect(findings.get('run:airflow:slow_dag:duration')).toMatchObject({ status: 'warn', observed: 5400 });
  });

  it('ignores a paused DAG until it is unpaused', async () => {
    await scheduler.setPaused('paused_dag', false);
    const findings = byCheck((await collectAirflowFindings(reader, NOW)).findings);
    await scheduler.setPaused('paused_dag', true);
    expect(findings.get('run:airflow:paused_dag:schedule')?.status).toBe('fail');
    expect(findings.get('run:airflow:paused_dag')?.status).toBe('fail');
  });

  it('reads through sessions that refuse to write', async () => {
    const source = airflowSourceSchema.parse({ name: 'main', url: db.url });
    const pool = openAirflowPool(source, testLogger());
    try {
      const attempt = withReadSession(pool, { logger: testLogger() }, (client) => client.query(`insert into dag (dag_id, is_paused) values ('written', false)`));
      await expect(attempt).rejects.toMatchObject({ code: '25006' });
    } finally {
      await pool.end();
    }
    const { rows } = await db.pool().query(`select 1 from dag where dag_id = 'written'`);
    expect(rows).toEqual([]);
  });
});

describe('Airflow sources that cannot be read', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createBlankDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('says when the database holds no Airflow tables, and where to look', async () => {
    const reader = new AirflowReader(airflowSourceSchema.parse({ name: 'prod', url: db.url }), testLogger());
    try {
      await expect(reader.read(NOW)).rejects.toThrow(/Airflow source "prod": no Airflow tables \(dag, dag_run, task_instance\) in schema "public".*airflow\[\]\.schema/);
    } finally {
      await reader.close();
    }
  });

  it('reads Airflow tables from the schema the source names', async () => {
    await createAirflowTables(db.pool(), 2, 'airflow');
    const scheduler = new AirflowScheduler(db.pool(), 2, 'airflow');
    await scheduler.addDag('in_schema');
    const run = await scheduler.createRun('in_schema', daysBefore(0));
    await scheduler.startRun('in_schema', run, daysBefore(0));
    await scheduler.setTask('in_schema', run, 'work', 'failed', 1);
    await scheduler.finishRun('in_schema', run, 'failed', daysBefore(0, 9));
    const reader = new AirflowReader(airflowSourceSchema.parse({ name: 'prod', url: db.url, schema: 'airflow' }), testLogger());
    try {
      const { findings, version } = await collectAirflowFindings(reader, NOW);
      expect(version).toBe(2);
      expect(byCheck(findings).get('run:airflow:in_schema:work')?.status).toBe('fail');
    } finally {
      await reader.close();
    }
  });

  it('names the source and its URL without the password when the server is unreachable', async () => {
    const reader = new AirflowReader(
      airflowSourceSchema.parse({ name: 'gone', url: 'postgres://airflow:s3cret@127.0.0.1:1/airflow', connect_timeout: '2s' }),
      testLogger(),
    );
    try {
      const error = await reader.read(NOW).catch((caught: unknown) => caught as Error);
      expect(error).toMatchObject({ code: 'warehouse_unreachable' });
      expect((error as Error).message).toContain('airflow source "gone"');
      expect((error as Error).message).not.toContain('s3cret');
    } finally {
      await reader.close();
    }
  });
});
