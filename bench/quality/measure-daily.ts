// The daily observations the Elementary baseline scores: per table and completed UTC day, rows,
// the null fraction of `amount`, the share of each status, and the longest time without an
// update (Elementary's freshness metric), plus the column list for its schema-change test.
// Measured by the harness with its own SQL, on the same warehouse and at the same simulated
// moments as pipewarden, because the baseline must see exactly the data pipewarden saw.

import type pg from 'pg';
import { quoteIdentifier } from '../../src/warehouse/quote.ts';
import type { DailyObservation } from './elementary-baseline.ts';
import { SCENARIO_SCHEMA } from './load-scenario.ts';
import { DAY_MS, STATUSES, type Scenario } from './scenario.ts';

interface DayRow {
  day: Date;
  row_count: string;
  amount_nulls: string;
  last_at: Date;
  max_gap_s: number | null;
  [share: `n_${string}`]: string;
}

const statusCounts = STATUSES.map((status, i) => `count(*) FILTER (WHERE status = $${i + 3})::int8 AS n_${status}`).join(', ');

const SELECT_DAYS = `
SELECT date_bin('1 day', loaded_at, $1::timestamptz) AS day, count(*)::int8 AS row_count,
  count(*) FILTER (WHERE amount IS NULL)::int8 AS amount_nulls, ${statusCounts},
  max(loaded_at) AS last_at, max(gap_s)::float8 AS max_gap_s
FROM (SELECT loaded_at, status, amount, extract(epoch FROM loaded_at - lag(loaded_at) OVER (ORDER BY loaded_at)) AS gap_s
      FROM %TABLE% WHERE loaded_at >= $1 AND loaded_at < $2) x
GROUP BY 1 ORDER BY 1`;

const SELECT_COLUMNS = `SELECT table_name::text AS name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
FROM information_schema.columns WHERE table_schema = $1 GROUP BY 1`;

/** Per table, the observations of every day in [from, to); a dropped table gets null metrics. */
export async function measureDays(pool: pg.Pool, scenario: Scenario, from: Date, to: Date, lastUpdate: Map<string, Date>): Promise<Map<string, DailyObservation[]>> {
  const columns = new Map((await pool.query<{ name: string; columns: string[] }>(SELECT_COLUMNS, [SCENARIO_SCHEMA])).rows.map((row) => [row.name, row.columns]));
  const result = new Map<string, DailyObservation[]>();
  await Promise.all(
    scenario.tables.map(async (t) => {
      const days: Date[] = [];
      for (let d = from.getTime(); d < to.getTime(); d += DAY_MS) days.push(new Date(d));
      const tableColumns = columns.get(t.name);
      if (tableColumns === undefined) {
        result.set(t.name, days.map((day) => ({ day, metrics: null, columns: null })));
        return;
      }
      const sql = SELECT_DAYS.replace('%TABLE%', `${quoteIdentifier(SCENARIO_SCHEMA)}.${quoteIdentifier(t.name)}`);
      const rows = (await pool.query<DayRow>(sql, [from.toISOString(), to.toISOString(), ...STATUSES])).rows;
      const byDay = new Map(rows.map((row) => [row.day.getTime(), row]));
      result.set(t.name, days.map((day) => toObservation(day, byDay.get(day.getTime()), tableColumns, lastUpdate, t.name)));
    }),
  );
  return result;
}

function toObservation(day: Date, row: DayRow | undefined, columns: string[], lastUpdate: Map<string, Date>, table: string): DailyObservation {
  const dayEnd = day.getTime() + DAY_MS;
  const previous = lastUpdate.get(table);
  // The longest wait for an update: inside the day, or from the last update until the day's end.
  const trailing = (dayEnd - (row ? row.last_at.getTime() : (previous?.getTime() ?? day.getTime()))) / 3_600_000;
  const inside = row?.max_gap_s != null ? row.max_gap_s / 3600 : 0;
  if (row) lastUpdate.set(table, row.last_at);
  const rowCount = row ? Number(row.row_count) : 0;
  const metrics: Record<string, number> = { row_count: rowCount, max_gap_hours: Math.max(inside, trailing) };
  if (row && rowCount > 0) {
    metrics['null_fraction:amount'] = Number(row.amount_nulls) / rowCount;
    for (const status of STATUSES) metrics[`share:status=${status}`] = Number(row[`n_${status}`]) / rowCount;
  }
  return { day, metrics, columns };
}
