// Puts a scenario into a real PostgreSQL warehouse: one table per scenario table, rows inserted
// set-based (one statement per table and time range, rows generated server-side from the hourly
// counts), and the schema incidents (DROP COLUMN, DROP TABLE) applied when their time comes.
// Row contents derive from hashint8extended of (hour, row number), so reloads are identical.

import type pg from 'pg';
import { quoteIdentifier } from '../../src/warehouse/quote.ts';
import { DROPPED_COLUMN, HOUR_MS, STATUSES, type Scenario, type TableScenario } from './scenario.ts';

export const SCENARIO_SCHEMA = 'scenario';

const table = (scenarioTable: TableScenario): string => `${quoteIdentifier(SCENARIO_SCHEMA)}.${quoteIdentifier(scenarioTable.name)}`;

export async function createScenarioTables(pool: pg.Pool, scenario: Scenario): Promise<void> {
  await pool.query(`CREATE SCHEMA ${quoteIdentifier(SCENARIO_SCHEMA)}`);
  const ddl = scenario.tables.map(
    (t) => `CREATE TABLE ${table(t)} (loaded_at timestamptz NOT NULL, status text, amount numeric(10,2), ${quoteIdentifier(DROPPED_COLUMN)} text DEFAULT 'ok');
      CREATE INDEX ON ${table(t)} (loaded_at);`,
  );
  await pool.query(ddl.join('\n'));
}

const cumulative = (mix: readonly number[]): number[] => mix.map((_, i) => mix.slice(0, i + 1).reduce((a, b) => a + b, 0));

// Rows of each hour are spread evenly over it; u1/u2 are deterministic uniforms in [0, 1).
const INSERT_HOURS = `
INSERT INTO %TABLE% (loaded_at, status, amount)
SELECT h.hour + ((g - 0.5) / h.n) * interval '1 hour',
  CASE WHEN u.u1 < m.c[1] THEN $7 WHEN u.u1 < m.c[2] THEN $8 WHEN u.u1 < m.c[3] THEN $9 ELSE $10 END,
  CASE WHEN u.u2 < h.null_rate THEN NULL ELSE round((5 + u.u2 * 95)::numeric, 2) END
FROM unnest($1::timestamptz[], $2::int[], $3::float8[], $4::bool[]) AS h(hour, n, null_rate, shifted)
CROSS JOIN LATERAL generate_series(1, h.n) g
CROSS JOIN LATERAL (SELECT CASE WHEN h.shifted THEN $6::float8[] ELSE $5::float8[] END AS c) m
CROSS JOIN LATERAL (
  SELECT (hashint8extended((extract(epoch FROM h.hour)::int8 / 3600) * 1000000 + g, 1) & 2147483647)::float8 / 2147483648 AS u1,
         (hashint8extended((extract(epoch FROM h.hour)::int8 / 3600) * 1000000 + g, 2) & 2147483647)::float8 / 2147483648 AS u2
) u`;

/** Inserts the rows of every still-existing table for the hours in [from, to). */
export async function loadHours(pool: pg.Pool, scenario: Scenario, from: Date, to: Date): Promise<void> {
  const first = Math.max(0, Math.round((from.getTime() - scenario.start.getTime()) / HOUR_MS));
  const last = Math.round((to.getTime() - scenario.start.getTime()) / HOUR_MS);
  await Promise.all(
    scenario.tables.map(async (t) => {
      const slices = t.hours.slice(first, last).map((slice, i) => ({ ...slice, hour: new Date(scenario.start.getTime() + (first + i) * HOUR_MS) }));
      const filled = slices.filter((slice) => slice.rows > 0);
      if (filled.length === 0) return;
      await pool.query(INSERT_HOURS.replace('%TABLE%', table(t)), [
        filled.map((s) => s.hour.toISOString()),
        filled.map((s) => s.rows),
        filled.map((s) => s.nullRate),
        filled.map((s) => s.shifted),
        cumulative(t.mix),
        cumulative(t.shiftedMix),
        ...STATUSES,
      ]);
    }),
  );
}

/** Applies the schema incidents that start in [from, to): a dropped column or table. */
export async function applySchemaIncidents(pool: pg.Pool, scenario: Scenario, from: Date, to: Date): Promise<void> {
  for (const t of scenario.tables) {
    const incident = t.incident;
    if (incident === null || incident.start < from || incident.start >= to) continue;
    if (incident.kind === 'column_dropped') await pool.query(`ALTER TABLE ${table(t)} DROP COLUMN ${quoteIdentifier(DROPPED_COLUMN)}`);
    if (incident.kind === 'table_dropped') await pool.query(`DROP TABLE ${table(t)}`);
  }
}
