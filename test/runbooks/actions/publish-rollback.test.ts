// `publish` and `rollback` on a real PostgreSQL: audits guard the swap, the swap is atomic for
// concurrent readers, versions are kept and pruned, a rollback brings the previous data back
// (and can itself be undone), and repeating a step that already happened changes nothing.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { StepFailedError } from '../../../src/runbooks/action.ts';
import type { ActionContext } from '../../../src/runbooks/action.ts';
import { publishAction, publishInput } from '../../../src/runbooks/actions/publish.ts';
import { rollbackAction, rollbackInput } from '../../../src/runbooks/actions/rollback.ts';
import { createWarehouseWriters } from '../../../src/warehouse/postgres-writer.ts';
import { testActionContext } from '../../helpers/action-context.ts';
import { testLogger } from '../../helpers/logger.ts';
import type { TestDatabase } from '../../helpers/postgres.ts';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/test-warehouse.ts';

let warehouse: TestWarehouse;
let database: TestDatabase;
let clock = new Date('2026-12-04T21:00:00Z');

beforeAll(async () => {
  warehouse = await createTestWarehouse();
  database = warehouse.database;
});

afterAll(async () => {
  await warehouse?.close();
});

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return warehouse.context({ now: () => clock, ...overrides });
}

function publish(withValue: Record<string, unknown>, overrides: Partial<ActionContext> = {}) {
  return publishAction.run(publishInput.parse(withValue), context(overrides));
}

function rollback(withValue: Record<string, unknown>, overrides: Partial<ActionContext> = {}) {
  return rollbackAction.run(rollbackInput.parse(withValue), context(overrides));
}

// Written by hand, not with the helpers under test, so a quoting bug cannot hide itself.
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A table of (id, amount, note) holding `label` in every row's note. */
async function createTable(schema: string, name: string, rows: number, label: string): Promise<void> {
  await database.pool().query(
    `CREATE TABLE ${quote(schema)}.${quote(name)} AS SELECT g AS id, g * 10 AS amount, $1::text AS note FROM generate_series(1, ${rows}) AS g`,
    [label],
  );
}

async function labels(schema: string, name: string): Promise<string[]> {
  const result = await database.pool().query<{ note: string }>(`SELECT DISTINCT note FROM ${quote(schema)}.${quote(name)} ORDER BY note`);
  return result.rows.map((row) => row.note);
}

async function tablesLike(schema: string, prefix: string): Promise<string[]> {
  const result = await database.pool().query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND starts_with(c.relname, $2) ORDER BY c.relname COLLATE "C"`,
    [schema, prefix],
  );
  return result.rows.map((row) => row.name);
}

describe('publish', () => {
  it('swaps an audited staging table in, keeping the old table as a dated version', async () => {
    await createTable('public', 'orders', 3, 'old');
    await createTable('public', 'orders_staging', 5, 'new');
    const outputs = await publish({ table: 'public.orders', staging: 'public.orders_staging', audit: { min_rows: 5, not_null: ['id', 'note'], unique: ['id'], where_false: 'amount < 0' } });
    expect(outputs).toMatchObject({ version: 'orders__pw_v20261204210000', versions: ['orders__pw_v20261204210000'], already_done: false });
    expect((outputs.audits as { passed: boolean }[]).map((audit) => audit.passed)).toEqual([true, true, true, true, true]);
    expect(await labels('public', 'orders')).toEqual(['new']);
    expect(await labels('public', 'orders__pw_v20261204210000')).toEqual(['old']);
    expect(await tablesLike('public', 'orders_staging')).toEqual([]);
    const comment = await database.pool().query("SELECT obj_description('public.orders'::regclass, 'pg_class') AS comment");
    expect(JSON.parse(comment.rows[0].comment.replace('pipewarden: ', ''))).toMatchObject({ action: 'publish', run: '1', step: 'test-step' });
  });

  it('is atomic for concurrent readers: each sees the old or the new table, never none', async () => {
    await createTable('public', 'busy', 1, 'v0');
    const errors: unknown[] = [];
    const seen = new Set<string>();
    let publishing = true;
    const readers = new pg.Pool({ connectionString: database.url, max: 4 });
    readers.on('error', () => undefined);
    const read = async () => {
      while (publishing) {
        try {
          const result = await readers.query<{ note: string }>('SELECT min(note) AS note FROM public.busy');
          seen.add(result.rows[0]?.note ?? 'empty');
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const reading = Promise.all([read(), read(), read(), read()]);
    try {
      for (let round = 1; round <= 8; round++) {
        await createTable('public', 'busy_staging', 20_000, `v${round}`);
        await publish({ table: 'public.busy', staging: 'public.busy_staging', keep: 1 }, { runId: `r${round}` });
      }
    } finally {
      publishing = false;
      await reading;
      await readers.end();
    }
    expect(errors).toEqual([]);
    // The readers really ran across the swaps (else this test would prove nothing).
    expect(seen.size).toBeGreaterThan(2);
    expect([...seen].every((label) => /^v\d$/.test(label))).toBe(true);
    expect(await labels('public', 'busy')).toEqual(['v8']);
  });

  it.each([
    ['min_rows', { min_rows: 10 }, "(4, 40, 'bad')", /min_rows: 4 rows, expected at least 10/],
    ['not_null', { not_null: ['id', 'note'] }, '(4, 40, NULL)', /not_null: 1 rows with note NULL/],
    ['unique', { unique: ['id'] }, "(1, 10, 'bad')", /unique: 1 values of \(id\) repeat/],
    ['where_false', { where_false: 'amount < 0' }, "(4, -1, 'bad'), (5, -5, 'bad')", /where_false: 2 rows where it is true/],
  ])('publishes nothing when the %s audit fails, and says how many rows broke it', async (name, audit, badRows, message) => {
    const table = `audited_${name}`;
    await createTable('public', table, 3, 'good');
    await createTable('public', `${table}_staging`, 3, 'bad');
    await database.pool().query(`INSERT INTO public.${table}_staging VALUES ${badRows}`);
    const attempt = publish({ table: `public.${table}`, staging: `public.${table}_staging`, audit });
    await expect(attempt).rejects.toBeInstanceOf(StepFailedError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ outputs: { audits: expect.arrayContaining([expect.objectContaining({ audit: name, passed: false })]) } });
    expect(await labels('public', table)).toEqual(['good']);
    expect(await tablesLike('public', `${table}_staging`)).toEqual([`${table}_staging`]);
    expect(await tablesLike('public', `${table}__pw_v`)).toEqual([]);
  });

  it('keeps `keep` versions, each later than the last even when the clock has not moved', async () => {
    await createTable('public', 'pruned', 1, 'v0');
    const created: string[] = [];
    for (let round = 1; round <= 4; round++) {
      await createTable('public', 'pruned_staging', 1, `v${round}`);
      created.push((await publish({ table: 'public.pruned', staging: 'public.pruned_staging', keep: 2 }, { runId: `p${round}` })).version as string);
    }
    expect(new Set(created).size).toBe(4);
    expect(await tablesLike('public', 'pruned__pw_v')).toEqual(created.slice(2));
    expect(await labels('public', created[3] as string)).toEqual(['v3']);
    expect(await labels('public', 'pruned')).toEqual(['v4']);
  });

  it('repeated by the same run and step after it succeeded, changes nothing and succeeds', async () => {
    await createTable('public', 'again', 1, 'old');
    await createTable('public', 'again_staging', 1, 'new');
    const step = { table: 'public.again', staging: 'public.again_staging' };
    const first = await publish(step, { runId: 'crashed', step: 'publish' });
    // A new staging table of the same name appears; the repeat must not publish it.
    await createTable('public', 'again_staging', 1, 'newer');
    const repeat = await publish(step, { runId: 'crashed', step: 'publish' });
    expect(repeat).toMatchObject({ version: first.version, versions: first.versions, already_done: true });
    expect(await labels('public', 'again')).toEqual(['new']);
    expect(await tablesLike('public', 'again_staging')).toEqual(['again_staging']);
    // Another step of the same run is not a repeat: it publishes.
    const next = await publish(step, { runId: 'crashed', step: 'publish-again' });
    expect(next.already_done).toBe(false);
    expect(await labels('public', 'again')).toEqual(['newer']);
  });

  it('publishes across schemas and hostile names, and a first publish without a live table', async () => {
    const schema = 'Weird "schema"; drop table y';
    await database.pool().query(`CREATE SCHEMA ${quote(schema)}; CREATE TABLE public.y (id int)`);
    await createTable('public', 'x"; drop table y; --', 2, 'first');
    const outputs = await publish({ table: { schema, name: 'o"dd' }, staging: { schema: 'public', name: 'x"; drop table y; --' } });
    expect(outputs).toMatchObject({ version: null, versions: [] });
    expect(await labels(schema, 'o"dd')).toEqual(['first']);
    expect(await tablesLike('public', 'y')).toEqual(['y']);
  });

  it('refuses to swap a table a view reads, since the view would follow the old table', async () => {
    await createTable('public', 'viewed', 2, 'old');
    await createTable('public', 'viewed_staging', 2, 'new');
    await database.pool().query('CREATE VIEW public.viewed_report AS SELECT note FROM public.viewed');
    await expect(publish({ table: 'public.viewed', staging: 'public.viewed_staging' })).rejects.toThrow(/viewed_report depend on it/);
    expect(await labels('public', 'viewed')).toEqual(['old']);
    // Why: a rename keeps the table's identity, and the view is bound to it, not to its name.
    await database.pool().query('BEGIN; ALTER TABLE public.viewed RENAME TO viewed_old; ALTER TABLE public.viewed_staging RENAME TO viewed; COMMIT');
    expect((await database.pool().query('SELECT DISTINCT note FROM public.viewed_report')).rows).toEqual([{ note: 'old' }]);
  });

  it('gives up waiting for a table a reader holds, rather than queue every later reader behind it', async () => {
    await createTable('public', 'held', 1, 'old');
    await createTable('public', 'held_staging', 1, 'new');
    const quick = createWarehouseWriters(configSchema.parse({ warehouses: { demo: { type: 'postgres', url: database.url, write_url: database.url, statement_timeout: '1s' } } }), testLogger());
    const reader = await database.pool().connect();
    try {
      await reader.query('BEGIN; SELECT count(*) FROM public.held');
      const attempt = publishAction.run(publishInput.parse({ table: 'public.held', staging: 'public.held_staging' }), testActionContext({ config: { warehouses: warehouse.warehouses }, writers: quick }));
      await expect(attempt).rejects.toThrow(/lock timeout.*55P03.*nothing was changed.*retry/);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
      await quick.close();
    }
    expect(await labels('public', 'held')).toEqual(['old']);
  });

  it('reports a where_false that is not valid SQL as a failed step, changing nothing', async () => {
    await createTable('public', 'typo', 1, 'old');
    await createTable('public', 'typo_staging', 1, 'new');
    const attempt = publish({ table: 'public.typo', staging: 'public.typo_staging', audit: { where_false: 'amount <' } });
    await expect(attempt).rejects.toBeInstanceOf(StepFailedError);
    await expect(attempt).rejects.toThrow(/syntax error.*42601/);
    expect(await labels('public', 'typo')).toEqual(['old']);
  });

  it('refuses a table whose name leaves no room for a version stamp (Postgres would cut it)', async () => {
    const long = 'n'.repeat(44);
    await expect(publish({ table: { schema: 'public', name: long }, staging: 'public.orders' })).rejects.toThrow(/too long a name.*at most 63 bytes/);
    await expect(rollback({ table: { schema: 'public', name: long } })).rejects.toThrow(/too long a name/);
  });

  it('fails clearly when the staging table is missing', async () => {
    await expect(publish({ table: 'public.orders', staging: 'public.nope' }, { runId: 'other' })).rejects.toThrow(/staging table "public"\."nope" does not exist/);
  });
});

describe('rollback', () => {
  it('restores the newest version, keeps the bad table as a version, and can be undone', async () => {
    clock = new Date('2026-12-04T21:00:00Z');
    await createTable('public', 'daily', 2, 'first');
    await createTable('public', 'daily_staging', 2, 'second');
    await publish({ table: 'public.daily', staging: 'public.daily_staging' }, { runId: 'load-1' });
    clock = new Date('2026-12-04T21:30:00Z');
    await createTable('public', 'daily_staging', 2, 'bad');
    await publish({ table: 'public.daily', staging: 'public.daily_staging' }, { runId: 'load-2' });
    clock = new Date('2026-12-04T22:00:00Z');
    const outputs = await rollback({ table: 'public.daily' }, { runId: 'fix', step: 'rollback' });
    expect(outputs).toMatchObject({
      restored: 'daily__pw_v20261204213000',
      version: 'daily__pw_v20261204220000',
      versions: ['daily__pw_v20261204210000', 'daily__pw_v20261204220000'],
    });
    expect(await labels('public', 'daily')).toEqual(['second']);
    expect(await labels('public', 'daily__pw_v20261204220000')).toEqual(['bad']);

    const repeat = await rollback({ table: 'public.daily' }, { runId: 'fix', step: 'rollback' });
    expect(repeat).toMatchObject({ already_done: true, restored: 'daily__pw_v20261204213000' });
    expect(await labels('public', 'daily')).toEqual(['second']);

    await rollback({ table: 'public.daily' }, { runId: 'fix', step: 'undo-rollback' });
    expect(await labels('public', 'daily')).toEqual(['bad']);
  });

  it('refuses, like publish, to swap a table a view reads', async () => {
    await createTable('public', 'shown', 1, 'live');
    await createTable('public', 'shown__pw_v20260101000000', 1, 'kept');
    await database.pool().query('CREATE VIEW public.shown_report AS SELECT note FROM public.shown');
    await expect(rollback({ table: 'public.shown' })).rejects.toThrow(/shown_report depend on it/);
    expect(await labels('public', 'shown')).toEqual(['live']);
  });

  it('fails clearly when there is no version to restore', async () => {
    await createTable('public', 'unversioned', 1, 'only');
    const attempt = rollback({ table: 'public.unversioned' });
    await expect(attempt).rejects.toBeInstanceOf(StepFailedError);
    await expect(attempt).rejects.toThrow(/no version to roll back to/);
    expect(await labels('public', 'unversioned')).toEqual(['only']);
  });
});

describe('publish definition check', () => {
  const check = (withValue: Record<string, unknown>) => publishAction.checkDefinition?.(withValue) ?? [];

  it('rejects ${ in where_false and an audit bound from a placeholder', () => {
    expect(check({ audit: { where_false: "status = '${finding.observed}'" } })).toEqual([expect.stringMatching(/where_false.*constant/)]);
    expect(check({ audit: '${params.audit}' })).toEqual([expect.stringMatching(/written out/)]);
    expect(check({ table: '${asset.schema}.orders', audit: { where_false: 'amount < 0', not_null: ['${params.column}'] } })).toEqual([]);
  });
});
