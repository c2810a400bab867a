// Profile cost: one profile statement (all measures of all columns for every bucket, one scan)
// against the per-column baseline a naive profiler runs (one statement per column with that
// column's measures, same buckets), both through the real Postgres warehouse adapter, timed
// interleaved in the same run. Reports the median wall time of each and their ratio, twice: for
// the column measures alone, and for the request a real profile sends (every fitting measure plus
// the configured quantiles and top-k values, see src/collect/profile-plans.ts).
//
//   node bench/profile-cost.ts [--rows 1000000] [--days 30] [--repetitions 3] [--full-repetitions 1]

import { configSchema, profilingSchema } from '../src/config/schema.ts';
import { createPostgresWarehouse } from '../src/warehouse/postgres-warehouse.ts';
import type { BucketQuery, ColumnMeasure, ColumnProfileRequest, Warehouse } from '../src/warehouse/warehouse.ts';
import { parseFlags, positiveInteger } from './lib/bench-args.ts';
import { benchLogger, withBenchPostgres, withClient } from './lib/bench-postgres.ts';
import { printTable } from './lib/print-table.ts';
import { median, timeOnce } from './lib/timing.ts';

const DAY_MS = 86_400_000;
const END = new Date('2025-06-01T00:00:00Z');

type ColumnKind = 'numeric' | 'text' | 'boolean' | 'time';

// 19 profiled columns plus the time column make the 20. Each expression derives from the row
// number `g` so the data is deterministic; some leave NULLs and zeros so every measure has work.
const COLUMNS: ReadonlyArray<{ name: string; kind: ColumnKind; type: string; value: string }> = [
  { name: 'amount', kind: 'numeric', type: 'numeric(12,2)', value: 'round((random() * 500)::numeric, 2)' },
  { name: 'quantity', kind: 'numeric', type: 'integer', value: '(g % 7)' },
  { name: 'price', kind: 'numeric', type: 'double precision', value: 'random() * 100' },
  { name: 'discount', kind: 'numeric', type: 'numeric(5,2)', value: "CASE WHEN g % 5 = 0 THEN NULL ELSE round((random() * 30)::numeric, 2) END" },
  { name: 'score', kind: 'numeric', type: 'real', value: '(random() * 10)::real' },
  { name: 'store_id', kind: 'numeric', type: 'bigint', value: '(g % 1000)' },
  { name: 'weight', kind: 'numeric', type: 'double precision', value: "CASE WHEN g % 11 = 0 THEN NULL ELSE random() * 20 END" },
  { name: 'tax', kind: 'numeric', type: 'numeric(10,2)', value: 'round((random() * 40)::numeric, 2)' },
  { name: 'status', kind: 'text', type: 'text', value: "(ARRAY['new','paid','shipped','cancelled'])[1 + g % 4]" },
  { name: 'country', kind: 'text', type: 'text', value: "(ARRAY['US','DE','FR','GB','NL','ES'])[1 + g % 6]" },
  { name: 'channel', kind: 'text', type: 'varchar(20)', value: "CASE WHEN g % 13 = 0 THEN NULL ELSE (ARRAY['web','app','store'])[1 + g % 3] END" },
  { name: 'sku', kind: 'text', type: 'text', value: "'sku-' || (g % 5000)" },
  { name: 'note', kind: 'text', type: 'text', value: "CASE WHEN g % 3 = 0 THEN NULL ELSE md5(g::text) END" },
  { name: 'gift', kind: 'boolean', type: 'boolean', value: 'g % 9 = 0' },
  { name: 'returned', kind: 'boolean', type: 'boolean', value: "CASE WHEN g % 17 = 0 THEN NULL ELSE g % 4 = 0 END" },
  { name: 'express', kind: 'boolean', type: 'boolean', value: 'random() < 0.2' },
  { name: 'created_at', kind: 'time', type: 'timestamptz', value: "ts - interval '5 minutes'" },
  { name: 'shipped_at', kind: 'time', type: 'timestamp', value: "CASE WHEN g % 4 = 0 THEN NULL ELSE (ts + interval '1 day') AT TIME ZONE 'UTC' END" },
  { name: 'delivered_on', kind: 'time', type: 'date', value: "(ts + interval '3 days')::date" },
];

const MEASURES: Record<ColumnKind, ColumnMeasure[]> = {
  numeric: ['null_fraction', 'zero_fraction', 'distinct_count', 'mean', 'stddev', 'min', 'max'],
  text: ['null_fraction', 'distinct_count', 'avg_length'],
  boolean: ['null_fraction', 'distinct_count', 'mean'],
  time: ['null_fraction', 'distinct_count', 'min', 'max'],
};

async function createTable(url: string, rows: number, days: number): Promise<void> {
  const definitions = COLUMNS.map((column) => `${column.name} ${column.type}`).join(', ');
  const values = COLUMNS.map((column) => column.value).join(', ');
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE orders (loaded_at timestamptz NOT NULL, ${definitions})`);
    // Rows spread evenly over the last `days` days before END, one set-based insert.
    await client.query(
      `INSERT INTO orders SELECT ts, ${values}
       FROM generate_series(1, $1::int) g, LATERAL (SELECT $2::timestamptz - (g::float8 / $1 * $3::float8) * interval '1 day' AS ts) t`,
      [rows, END.toISOString(), days],
    );
    await client.query('VACUUM ANALYZE orders');
  });
}

function requests(): ColumnProfileRequest[] {
  return COLUMNS.map((column) => ({ column: column.name, measures: MEASURES[column.kind] }));
}

/** What the daemon asks of a distribution column: the same measures, quantiles and top-k at their defaults. */
function fullRequests(): ColumnProfileRequest[] {
  const profiling = profilingSchema.parse({});
  return COLUMNS.map((column) => ({ column: column.name, measures: 'fitting', quantiles: profiling.quantiles, topK: profiling.top_k }));
}

async function main(): Promise<void> {
  const flags = parseFlags('profile-cost', {
    rows: { default: 1_000_000, description: 'rows in the profiled table' },
    days: { default: 30, description: 'daily buckets profiled' },
    repetitions: { default: 3, description: 'measured runs of each side (after one warm-up)' },
    'full-repetitions': { default: 1, description: 'measured runs of each side with quantiles and top-k too (the table is warm by then)' },
  });
  const rows = positiveInteger('rows', flags.rows);
  const days = positiveInteger('days', flags.days);
  const repetitions = positiveInteger('repetitions', flags.repetitions);
  const fullRepetitions = positiveInteger('full-repetitions', flags['full-repetitions']);
  await withBenchPostgres(async (server) => {
    const url = await server.createDatabase('warehouse');
    process.stdout.write(`loading ${rows.toLocaleString('en-US')} rows × ${COLUMNS.length + 1} columns… `);
    console.log(`${((await timeOnce(() => createTable(url, rows, days))) / 1000).toFixed(1)} s`);
    const config = configSchema.parse({ warehouses: { bench: { type: 'postgres', url, statement_timeout: '10m' } } });
    let statements = 0;
    const warehouse = createPostgresWarehouse('bench', config.warehouses.bench!, benchLogger(), { onStatement: () => (statements += 1) });
    try {
      await compare(warehouse, days, { repetitions, fullRepetitions }, () => statements);
    } finally {
      await warehouse.close();
    }
  });
}

/** Times one profile of all columns against one profile per column, interleaved, after `warmUps`. */
async function timeBoth(warehouse: Warehouse, base: BucketQuery, all: ColumnProfileRequest[], repetitions: number, warmUps: number, statementCount: () => number) {
  const single = () => warehouse.profileBuckets({ ...base, columns: all });
  const perColumn = async () => {
    for (const request of all) await warehouse.profileBuckets({ ...base, columns: [request] });
  };
  let buckets = 0;
  for (let i = 0; i < warmUps; i++) {
    buckets = (await single()).length;
    await perColumn();
  }
  const singleTimes: number[] = [];
  const perColumnTimes: number[] = [];
  let singleStatements = 0;
  for (let i = 0; i < repetitions; i++) {
    const before = statementCount();
    singleTimes.push(await timeOnce(async () => void (buckets = (await single()).length)));
    singleStatements = statementCount() - before;
    perColumnTimes.push(await timeOnce(perColumn));
  }
  return { buckets, single: median(singleTimes), perColumn: median(perColumnTimes), singleStatements };
}

async function compare(warehouse: Warehouse, days: number, runs: { repetitions: number; fullRepetitions: number }, statementCount: () => number): Promise<void> {
  const base: BucketQuery = { table: { schema: 'public', name: 'orders' }, timeColumn: 'loaded_at', bucketMs: DAY_MS, from: new Date(END.getTime() - days * DAY_MS), to: END };
  const all = requests();
  const measuresOnly = await timeBoth(warehouse, base, all, runs.repetitions, 1, statementCount);
  const full = await timeBoth(warehouse, base, fullRequests(), runs.fullRepetitions, 0, statementCount);
  const measureCount = all.reduce((sum, request) => sum + (request.measures as ColumnMeasure[]).length, 0);
  const profiling = profilingSchema.parse({});
  const numeric = COLUMNS.filter((column) => column.kind === 'numeric').length;
  printTable(
    `Profile cost: ${all.length} columns, ${measuresOnly.buckets} daily buckets`,
    ['request', 'runs', 'one statement ms', `per-column ms (${all.length} statements)`, 'ratio'],
    [
      [`${measureCount} measures`, runs.repetitions, measuresOnly.single, measuresOnly.perColumn, measuresOnly.single / measuresOnly.perColumn],
      [
        `same + quantiles ${profiling.quantiles.join('/')} of ${numeric} numeric + top-${profiling.top_k} of all`,
        runs.fullRepetitions,
        full.single,
        full.perColumn,
        full.single / full.perColumn,
      ],
    ],
  );
  console.log(`\nMedians of the runs; one warm-up of each side comes before the first line. Statements sent for one profile, transaction framing included: ${measuresOnly.singleStatements}.`);
  console.log("Target: the one statement takes ≤ 1/5 (0.20) of the per-column baseline's time (first line).");
}

await main();
