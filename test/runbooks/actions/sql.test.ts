// The `sql` action on a real PostgreSQL: names and values that try to break out of their place
// stay inert, a statement cannot be built by splicing, and every way a step can fail (too many
// rows, a write in a read-only step, an abort) leaves the warehouse as it was.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { isDestructive, isIdempotent, StepFailedError } from '../../../src/runbooks/action.ts';
import type { ActionContext } from '../../../src/runbooks/action.ts';
import { sqlAction, sqlInput } from '../../../src/runbooks/actions/sql.ts';
import { createWarehouseWriters } from '../../../src/warehouse/postgres-writer.ts';
import { testActionContext } from '../../helpers/action-context.ts';
import { testLogger } from '../../helpers/logger.ts';
import type { TestDatabase } from '../../helpers/postgres.ts';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/test-warehouse.ts';

const ODD_TABLE = 'x"; drop table y; --';
const HOSTILE_VALUE = "'; drop table y; --";

let warehouse: TestWarehouse;
let database: TestDatabase;

beforeAll(async () => {
  warehouse = await createTestWarehouse();
  database = warehouse.database;
  await database.pool().query(`
    CREATE TABLE public.y (id int);
    CREATE TABLE public."x""; drop table y; --" (id int, note text);
    CREATE TABLE public.items (id int, status text, at timestamptz, big int8);
    INSERT INTO public.items VALUES (1, 'new', '2024-01-01T00:00:00Z', 9007199254740993), (2, 'new', NULL, 1), (3, 'new', NULL, 2);
    CREATE FUNCTION public.close_items() RETURNS int LANGUAGE sql AS $$ UPDATE public.items SET status = 'done' RETURNING 1 $$;`);
});

afterAll(async () => {
  await warehouse?.close();
});

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return warehouse.context(overrides);
}

function run(withValue: Record<string, unknown>, overrides: Partial<ActionContext> = {}) {
  return sqlAction.run(sqlInput.parse(withValue), context(overrides));
}

async function statuses(): Promise<string[]> {
  return (await database.pool().query<{ status: string }>('SELECT status FROM public.items ORDER BY id')).rows.map((row) => row.status);
}

async function tableExists(name: string): Promise<boolean> {
  return (await database.pool().query('SELECT 1 FROM pg_class WHERE relname = $1', [name])).rowCount === 1;
}

describe('sql action', () => {
  it('keeps a hostile table name and a hostile value inert: the odd table is written, y survives', async () => {
    const outputs = await run({
      statement: 'INSERT INTO {{target}} (id, note) VALUES ($1, $2)',
      identifiers: { target: ['public', ODD_TABLE] },
      params: [7, HOSTILE_VALUE],
    });
    expect(outputs).toMatchObject({ row_count: 1, command: 'INSERT' });
    expect(await tableExists('y')).toBe(true);
    const written = await database.pool().query(`SELECT id, note FROM public."x""; drop table y; --"`);
    expect(written.rows).toEqual([{ id: 7, note: HOSTILE_VALUE }]);
  });

  it('quotes a single-string identifier as one name, so a dot stays inside it', async () => {
    await expect(run({ statement: 'SELECT * FROM {{t}}', identifiers: { t: 'public.items' }, read_only: true })).rejects.toThrow(/"public\.items" does not exist/);
  });

  it('returns rows JSON-safe and counts them; defaults to the asset\'s warehouse', async () => {
    const outputs = await run({ statement: 'SELECT id, at, big FROM public.items WHERE id = ANY($1) ORDER BY id', params: [[1, 2]], read_only: true });
    expect(outputs).toEqual({
      row_count: 2,
      command: 'SELECT',
      rows: [
        { id: 1, at: '2024-01-01T00:00:00.000Z', big: '9007199254740993' },
        { id: 2, at: null, big: '1' },
      ],
    });
    expect(JSON.parse(JSON.stringify(outputs))).toEqual(outputs);
  });

  it('keeps only the first 100 rows but counts them all', async () => {
    const outputs = await run({ statement: 'SELECT g FROM generate_series(1, 250) AS g', read_only: true });
    expect(outputs.row_count).toBe(250);
    expect(outputs.rows).toHaveLength(100);
  });

  it('rolls back when the rows changed fall outside expect_rows', async () => {
    const attempt = run({ statement: "UPDATE public.items SET status = 'done'", expect_rows: { max: 1 } });
    await expect(attempt).rejects.toBeInstanceOf(StepFailedError);
    await expect(attempt).rejects.toThrow(/3 rows, more than expect_rows\.max 1.*rolled back/);
    expect(await statuses()).toEqual(['new', 'new', 'new']);
    await expect(run({ statement: 'DELETE FROM public.items WHERE id = 99', expect_rows: { min: 1 } })).rejects.toThrow(/0 rows, fewer than expect_rows\.min 1/);
    const passed = await run({ statement: "UPDATE public.items SET status = 'new' WHERE id = $1", params: [1], expect_rows: { min: 1, max: 1 } });
    expect(passed.row_count).toBe(1);
  });

  it('refuses writes when read_only, even through a function', async () => {
    const attempt = run({ statement: "UPDATE public.items SET status = 'done'", read_only: true });
    await expect(attempt).rejects.toBeInstanceOf(StepFailedError);
    await expect(attempt).rejects.toMatchObject({ outputs: { sqlstate: '25006' } });
    await expect(run({ statement: 'CREATE TABLE public.z (id int)', read_only: true })).rejects.toThrow(/read-only transaction/);
    await expect(run({ statement: 'SELECT public.close_items()', read_only: true })).rejects.toThrow(/read-only transaction/);
    // Nor can the statement switch the transaction back to read-write.
    const escape = "DO $$ BEGIN SET TRANSACTION READ WRITE; UPDATE public.items SET status = 'done'; END $$";
    await expect(run({ statement: escape, read_only: true })).rejects.toThrow(/read-write mode must be set before any query/);
    expect(await statuses()).toEqual(['new', 'new', 'new']);
    expect(await tableExists('z')).toBe(false);
  });

  it('runs exactly one statement: a smuggled second one is rejected, not run', async () => {
    await expect(run({ statement: 'SELECT 1; DROP TABLE public.y' })).rejects.toThrow(/multiple commands/);
    expect(await tableExists('y')).toBe(true);
  });

  it('on abort mid-statement rolls back and returns promptly', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('step timeout')), 300);
    const started = Date.now();
    const attempt = run(
      { statement: "WITH changed AS (UPDATE public.items SET status = 'aborted' RETURNING id) SELECT pg_sleep(30) FROM changed LIMIT 1" },
      { signal: controller.signal },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'runbook_write_aborted' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await statuses()).toEqual(['new', 'new', 'new']);
  });

  it('says which warehouse setting is missing', async () => {
    const config = { warehouses: { demo: { type: 'postgres', url: database.url } } } as const;
    const bare = createWarehouseWriters(configSchema.parse(config), testLogger());
    try {
      const attempt = sqlAction.run(sqlInput.parse({ statement: 'SELECT 1' }), testActionContext({ config, writers: bare }));
      await expect(attempt).rejects.toMatchObject({ code: 'runbook_no_write_url', message: expect.stringContaining('warehouses.demo.write_url') });
    } finally {
      await bare.close();
    }
  });

  it('is idempotent and harmless when read_only, destructive otherwise', () => {
    const readOnly = sqlInput.parse({ statement: 'SELECT 1', read_only: true });
    const write = sqlInput.parse({ statement: 'DELETE FROM t' });
    expect([isIdempotent(sqlAction, readOnly), isDestructive(sqlAction, readOnly)]).toEqual([true, false]);
    expect([isIdempotent(sqlAction, write), isDestructive(sqlAction, write)]).toEqual([false, true]);
    expect(isIdempotent(sqlAction, sqlInput.parse({ statement: 'DELETE FROM t', idempotent: true }))).toBe(true);
  });
});

describe('sql definition check', () => {
  const check = (withValue: Record<string, unknown>) => sqlAction.checkDefinition?.(withValue) ?? [];

  it('rejects ${ in the statement and says to bind values instead', () => {
    const problems = check({ statement: "DELETE FROM t WHERE day = '${finding.bucket}'" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/\$\{.*params/);
  });

  it('rejects {{name}} that identifiers lacks, and accepts a complete statement', () => {
    expect(check({ statement: 'DELETE FROM {{table}} WHERE id = $1', identifiers: { tabel: 'x' } })).toEqual([expect.stringContaining('{{table}}')]);
    expect(check({ statement: 'DELETE FROM {{table}} WHERE id = $1', identifiers: { table: ['public', 'x'] }, params: ['${finding.observed}'] })).toEqual([]);
    expect(check({ statement: 'DELETE FROM {{ table }}', identifiers: '${steps.find.outputs.names}' })).toEqual([]);
  });
});
