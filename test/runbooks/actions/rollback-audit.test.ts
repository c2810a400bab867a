// `rollback` with an audit, on a real PostgreSQL: after several bad publishes in a row it restores
// the newest version that passes (the last good one), names the ones it passed over, and refuses
// when no version passes — changing nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { StepFailedError } from '../../../src/runbooks/action.ts';
import { rollbackAction, rollbackInput } from '../../../src/runbooks/actions/rollback.ts';
import { createWarehouseWriters } from '../../../src/warehouse/postgres-writer.ts';
import type { WarehouseWriters } from '../../../src/warehouse/warehouse-writer.ts';
import { testActionContext } from '../../helpers/action-context.ts';
import { testLogger } from '../../helpers/logger.ts';
import { createBlankDatabase, type TestDatabase } from '../../helpers/postgres.ts';

let database: TestDatabase;
let writers: WarehouseWriters;
const warehouses = () => ({ wh: { type: 'postgres' as const, url: database.url, write_url: database.url } });

beforeAll(async () => {
  database = await createBlankDatabase();
  writers = createWarehouseWriters(configSchema.parse({ warehouses: warehouses() }), testLogger());
  // Versions oldest to newest: good (prices), bad (NULL prices), bad (empty); live: bad (NULL prices).
  await database.pool().query(`
    CREATE SCHEMA mart;
    CREATE TABLE mart."top__pw_v20261201000000" AS SELECT g AS id, 9.99 AS price, 'good' AS label FROM generate_series(1, 50) g;
    CREATE TABLE mart."top__pw_v20261202000000" AS SELECT g AS id, NULL::numeric AS price, 'nulls' AS label FROM generate_series(1, 50) g;
    CREATE TABLE mart."top__pw_v20261203000000" AS SELECT g AS id, 1.0 AS price, 'empty' AS label FROM generate_series(1, 0) g;
    CREATE TABLE mart.top AS SELECT g AS id, NULL::numeric AS price, 'live' AS label FROM generate_series(1, 50) g;
    CREATE SCHEMA other;
    CREATE TABLE other."t__pw_v20261201000000" AS SELECT 1 AS id, NULL::numeric AS price;
    CREATE TABLE other.t AS SELECT 1 AS id, NULL::numeric AS price;`);
});

afterAll(async () => {
  await writers?.close();
  await database?.drop();
});

function rollback(withValue: Record<string, unknown>) {
  const context = testActionContext({ config: { warehouses: warehouses() }, writers, overrides: { asset: { key: 'wh.mart.top', warehouse: 'wh' } } });
  return rollbackAction.run(rollbackInput.parse(withValue), context);
}

async function liveLabel(table: string): Promise<string | undefined> {
  const result = await database.pool().query<{ label: string }>(`SELECT DISTINCT label FROM ${table}`);
  return result.rows[0]?.label;
}

describe('rollback with an audit', () => {
  it('restores the newest version that passes, past newer ones that fail', async () => {
    const outputs = await rollback({ table: 'mart.top', audit: { min_rows: 10, not_null: ['price'] } });
    expect(outputs.restored).toBe('top__pw_v20261201000000');
    expect(outputs.skipped).toEqual([
      'top__pw_v20261203000000 (min_rows: 0 rows, expected at least 10)',
      'top__pw_v20261202000000 (not_null: 50 rows with price NULL)',
    ]);
    expect(await liveLabel('mart.top')).toBe('good');
  });

  it('refuses when no version passes, and leaves the live table as it was', async () => {
    const failure = await rollback({ table: 'other.t', audit: { not_null: ['price'] } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as Error).message).toMatch(/No version of "other"\."t" passes the audit, so none was restored: t__pw_v20261201000000 \(not_null: 1 rows with price NULL\)/);
    const { rows } = await database.pool().query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'other'");
    expect(rows[0]).toEqual({ n: 2 });
  });

  it('rejects a where_false bound from a placeholder before any run', () => {
    expect(rollbackAction.checkDefinition?.({ table: 'mart.top', audit: { where_false: 'price < ${params.min}' } })).toEqual([
      expect.stringMatching(/^audit\.where_false: contains "\$\{"/),
    ]);
  });
});
