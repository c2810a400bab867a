// Shared setup for the profile tests: a daily orders feed seeded set-based into a blank
// warehouse database, and a profile context on a real state database with statements recorded.

import { runProfile, type ProfileContext } from '../../src/collect/profile.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import type { TestDatabase } from '../helpers/postgres.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** 06:00 on a Thursday: the day's bucket is still filling. */
export const T0 = new Date('2025-03-20T06:00:00Z');
export const TODAY = new Date('2025-03-20T00:00:00Z');
export const day = (offset: number): Date => new Date(TODAY.getTime() + offset * DAY);
export const iso = (offset: number): string => day(offset).toISOString();

/** A steady feed: 500–660 rows a day with a wiggle; statuses 60/30/10 %; 4 % NULL amounts. */
export const rowsOnDay = (offset: number): number => 500 + 40 * (((offset + 100) * 3) % 5);

export async function createOrdersTable(db: TestDatabase, table: string): Promise<void> {
  await db.pool().query(`CREATE TABLE shop.${table} (id serial, created_at timestamptz NOT NULL, status text, amount numeric)`);
}

/** Inserts `counts[i]` rows spread over day(firstDay + i) into shop.<table>. */
export async function seedDays(db: TestDatabase, table: string, firstDay: number, counts: number[]): Promise<void> {
  await db.pool().query(
    `INSERT INTO shop.${table} (created_at, status, amount)
     SELECT $1::timestamptz + (d.k - 1) * interval '1 day' + i * (86400.0 / d.n) * interval '1 second',
       CASE WHEN i % 10 < 6 THEN 'paid' WHEN i % 10 < 9 THEN 'shipped' ELSE 'refunded' END,
       CASE WHEN i % 25 = 0 THEN NULL ELSE i % 50 + 1 END
     FROM unnest($2::int[]) WITH ORDINALITY AS d(n, k) CROSS JOIN LATERAL generate_series(0, d.n - 1) AS i`,
    [day(firstDay), counts],
  );
}

export interface ProfileSetup {
  monitors: ConfigInput['monitors'];
  profiling?: ConfigInput['profiling'];
  now: () => Date;
}

export interface ProfileHarness {
  context: ProfileContext;
  statements: string[];
  warehouse: Warehouse;
}

export function profileContext(stateDb: TestDatabase, url: string, name: string, setup: ProfileSetup): ProfileHarness {
  const config = daemonConfig(stateDb.url, { [name]: url }, { monitors: setup.monitors, ...(setup.profiling ? { profiling: setup.profiling } : {}) });
  const statements: string[] = [];
  const warehouse = createPostgresWarehouse(name, config.warehouses[name]!, testLogger(), { onStatement: (sql) => statements.push(sql) });
  const context = { config, warehouses: new Map([[name, warehouse]]), state: stateDb.pool(), logger: testLogger(), metrics: new Metrics({ processMetrics: false }), now: setup.now };
  return { context, statements, warehouse };
}

export const profile = (context: ProfileContext) => runProfile(context, new AbortController().signal);

export async function observed(stateDb: TestDatabase, asset: string, metric: string, column = ''): Promise<Map<string, number>> {
  const { rows } = await stateDb
    .pool()
    .query<{ bucket: Date; value: number }>('SELECT bucket, value FROM observations WHERE asset = $1 AND metric = $2 AND column_name = $3 ORDER BY bucket', [asset, metric, column]);
  return new Map(rows.map((row) => [row.bucket.toISOString(), row.value]));
}
