// Sweep cost: what one metadata sweep costs the warehouse and pipewarden as the table count
// grows. For each table count it reports the statements one sweep sends to the warehouse (split
// into transaction framing and real catalog queries), the sweep's wall time as a ratio to the
// bare catalog query alone run on a plain connection in the same run, and peak RSS.
//
//   node bench/sweep-cost.ts [--tables 100,10000] [--repetitions 5]

import { runSweep, type SweepContext } from '../src/collect/sweep.ts';
import { configSchema } from '../src/config/schema.ts';
import { Metrics } from '../src/telemetry/metrics.ts';
import { selectRelations } from '../src/warehouse/postgres-catalog.ts';
import { createPostgresWarehouse } from '../src/warehouse/postgres-warehouse.ts';
import { integerList, parseFlags, positiveInteger } from './lib/bench-args.ts';
import { benchLogger, withBenchPostgres, withClient, type BenchPostgres } from './lib/bench-postgres.ts';
import { createBenchState } from './lib/bench-state.ts';
import { printTable, type Cell } from './lib/print-table.ts';
import { median, peakRssMiB, timeOnce } from './lib/timing.ts';

const WAREHOUSE = 'bench';
// One transaction per batch: a single DO block creating 10,000 tables would hold 10,000 locks
// at once and overflow the default lock table.
const DDL_BATCH = 500;

interface SizeResult {
  tables: number;
  statements: string[];
  bareMs: number;
  firstSweepMs: number;
  sweepMs: number;
  rssMiB: number;
}

async function createTables(url: string, count: number): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('CREATE SCHEMA IF NOT EXISTS feeds');
    for (let from = 1; from <= count; from += DDL_BATCH) {
      const to = Math.min(count, from + DDL_BATCH - 1);
      await client.query(`DO $$ BEGIN FOR i IN ${from}..${to} LOOP
        EXECUTE format('CREATE TABLE feeds.t%s (id bigint, loaded_at timestamptz, status text, amount numeric(12,2), active boolean, note text)', i);
      END LOOP; END $$`);
    }
    await client.query('ANALYZE');
  });
}

/** The catalog statement alone, on a plain connection: the floor a sweep cannot go below. */
async function bareCatalog(url: string): Promise<number> {
  return withClient(url, (client) => timeOnce(() => selectRelations(client, null)));
}

function sweepContext(warehouseUrl: string, stateUrl: string, state: SweepContext['state'], onStatement: (sql: string) => void): SweepContext {
  const config = configSchema.parse({
    warehouses: { [WAREHOUSE]: { type: 'postgres', url: warehouseUrl } },
    state: { url: stateUrl },
    // Every table watched: freshness from write counters and schema, the zero-configuration checks.
    monitors: [{ assets: `${WAREHOUSE}.*.*`, freshness: true, schema: true }],
  });
  const warehouse = createPostgresWarehouse(WAREHOUSE, config.warehouses[WAREHOUSE]!, benchLogger(), { onStatement });
  return { config, warehouses: new Map([[WAREHOUSE, warehouse]]), state, logger: benchLogger(), metrics: new Metrics({ processMetrics: false }), now: () => new Date() };
}

async function measureSize(server: BenchPostgres, tables: number, repetitions: number): Promise<SizeResult> {
  const warehouseUrl = await server.createDatabase(`warehouse_${tables}`);
  process.stdout.write(`creating ${tables.toLocaleString('en-US')} tables… `);
  const created = await timeOnce(() => createTables(warehouseUrl, tables));
  console.log(`${(created / 1000).toFixed(1)} s`);
  const state = await createBenchState(server, `state_${tables}`);
  let statements: string[] = [];
  const context = sweepContext(warehouseUrl, state.url, state.pool, (sql) => statements.push(sql));
  const signal = new AbortController().signal;
  try {
    // The first sweep inserts every table_state row; later ones update them (the steady state).
    const firstSweepMs = await timeOnce(() => runSweep(context, signal));
    await bareCatalog(warehouseUrl); // warm the baseline's caches as the first sweep warmed the sweep's
    const bare: number[] = [];
    const sweeps: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      // Interleaved so drift in machine load hits both sides alike.
      bare.push(await bareCatalog(warehouseUrl));
      statements = [];
      sweeps.push(await timeOnce(() => runSweep(context, signal)));
    }
    return { tables, statements, bareMs: median(bare), firstSweepMs, sweepMs: median(sweeps), rssMiB: peakRssMiB() };
  } finally {
    await Promise.all([...context.warehouses.values()].map((warehouse) => warehouse.close()));
    await state.pool.end();
  }
}

function classify(sql: string): 'framing' | 'query' {
  const text = sql.trim().toUpperCase();
  if (/^(BEGIN|COMMIT|ROLLBACK|SET)\b/.test(text) || text.startsWith('SELECT SET_CONFIG')) return 'framing';
  return 'query';
}

function describeStatement(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  return text.length > 70 ? `${text.slice(0, 67)}…` : text;
}

function report(results: readonly SizeResult[]): void {
  const rows: Cell[][] = results.map((r) => {
    const kinds = r.statements.map(classify);
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    return [r.tables, r.statements.length, count('query'), count('framing'), r.bareMs, r.sweepMs, r.sweepMs / r.bareMs, r.firstSweepMs, r.rssMiB];
  });
  printTable(
    'Sweep cost (medians; ratio = sweep / bare catalog query, same run)',
    ['tables', 'stmts/sweep', 'catalog queries', 'framing', 'bare ms', 'sweep ms', 'ratio', 'first sweep ms', 'peak RSS MiB'],
    rows,
  );
  const last = results.at(-1);
  if (last) {
    console.log(`\nStatements of one sweep (${last.tables} tables):`);
    for (const sql of last.statements) console.log(`  [${classify(sql)}] ${describeStatement(sql)}`);
  }
  console.log('\nTargets: ≤ 3 statements (framing included) whatever the table count; sweep ≤ 1.5× bare; peak RSS ≤ 256 MiB.');
}

async function main(): Promise<void> {
  const flags = parseFlags('sweep-cost', {
    tables: { default: '100,10000', description: 'comma-separated table counts' },
    repetitions: { default: 5, description: 'measured sweeps per table count' },
  });
  const sizes = integerList('tables', flags.tables).sort((a, b) => a - b);
  const repetitions = positiveInteger('repetitions', flags.repetitions);
  // What the process holds before any sweep (runtime, modules, the embedded server's client):
  // the part of peak RSS that is not the sweep's.
  const startRssMiB = peakRssMiB();
  const results = await withBenchPostgres(async (server) => {
    const measured: SizeResult[] = [];
    for (const tables of sizes) measured.push(await measureSize(server, tables, repetitions));
    return measured;
  });
  report(results);
  console.log(`Peak RSS before the first sweep (runtime and modules): ${startRssMiB.toFixed(0)} MiB.`);
}

await main();
