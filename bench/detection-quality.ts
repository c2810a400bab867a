// Detection quality: labeled scenarios (seasonal tables with injected incidents, plus clean
// ones) loaded into a real PostgreSQL and replayed through pipewarden's real collect → detect
// path with an advancing `now`, scored against the labels beside a baseline reproducing
// Elementary's defaults on the same data in the same run.
//
//   node bench/detection-quality.ts [--tables 30] [--days 38] [--history-days 21] [--step-hours 6] [--seed 1] [--explain 1]

import { parseFlags, positiveInteger } from './lib/bench-args.ts';
import { withBenchPostgres } from './lib/bench-postgres.ts';
import { createBenchState } from './lib/bench-state.ts';
import { timeOnce } from './lib/timing.ts';
import { evaluateElementary } from './quality/elementary-baseline.ts';
import { explainAlarms } from './quality/explain-alarms.ts';
import { generateScenario } from './quality/generate-scenarios.ts';
import { createPipewardenPath } from './quality/pipewarden-path.ts';
import { replayScenario, type ReplayResult } from './quality/replay-scenario.ts';
import { reportQuality } from './quality/report-quality.ts';
import { DAY_MS, HOUR_MS, type Scenario } from './quality/scenario.ts';
import { scoreDetections, type Alert } from './quality/score-detections.ts';
import pg from 'pg';

function readFlags(): { tables: number; days: number; historyDays: number; stepHours: number; seed: number; explain: boolean } {
  const flags = parseFlags('detection-quality', {
    tables: { default: 30, description: 'scenario tables (30 % clean, the rest one incident each)' },
    days: { default: 38, description: 'simulated days' },
    'history-days': { default: 21, description: 'clean days before incidents may start' },
    'step-hours': { default: 6, description: 'hours between evaluations (a divisor of 24)' },
    seed: { default: 1, description: 'PRNG seed of the scenario' },
    explain: { default: 0, description: '1: list each false alarm (check, bucket, observed, expected, score, message) and the warnings of each missed incident' },
  });
  const options = {
    tables: positiveInteger('tables', flags.tables),
    days: positiveInteger('days', flags.days),
    historyDays: positiveInteger('history-days', flags['history-days']),
    stepHours: positiveInteger('step-hours', flags['step-hours']),
    seed: positiveInteger('seed', flags.seed),
    explain: flags.explain !== '0' && flags.explain !== '',
  };
  if (24 % options.stepHours !== 0 || options.historyDays + 3 > options.days) {
    console.error('--step-hours must divide 24, and --days must exceed --history-days by at least 3');
    process.exit(2);
  }
  return options;
}

async function replay(scenario: Scenario, stepMs: number): Promise<ReplayResult & { warnings: Alert[] }> {
  return withBenchPostgres(async (server) => {
    const warehouseUrl = await server.createDatabase('warehouse');
    const state = await createBenchState(server, 'state');
    const warehousePool = new pg.Pool({ connectionString: warehouseUrl, max: 4 });
    // The server stopping may still reach a connection pool.end() has not finished closing.
    warehousePool.on('connect', (client) => client.on('error', () => undefined));
    warehousePool.on('error', () => undefined);
    const path = createPipewardenPath(warehouseUrl, state.url, state.pool);
    let lastDay = -1;
    try {
      const result = await replayScenario(warehousePool, scenario, {
        stepMs,
        evaluate: (now) => path.evaluate(now),
        onProgress: (now) => {
          const day = Math.floor((now.getTime() - scenario.start.getTime()) / DAY_MS);
          if (day !== lastDay && day % 5 === 0) process.stdout.write(`day ${day}/${scenario.days} `);
          lastDay = day;
        },
      });
      return { ...result, warnings: path.warnings };
    } finally {
      await path.close();
      await warehousePool.end();
      await state.pool.end();
    }
  });
}

async function main(): Promise<void> {
  const options = readFlags();
  const scenario = generateScenario({ seed: options.seed, tables: options.tables, days: options.days, historyDays: options.historyDays });
  const rows = scenario.tables.reduce((sum, t) => sum + t.hours.reduce((s, h) => s + h.rows, 0), 0);
  console.log(`scenario seed ${options.seed}: ${options.tables} tables × ${options.days} days, ${rows.toLocaleString('en-US')} rows, evaluated every ${options.stepHours} h from day ${options.historyDays}`);
  let result: (ReplayResult & { warnings: Alert[] }) | undefined;
  const ms = await timeOnce(async () => {
    result = await replay(scenario, options.stepHours * HOUR_MS);
  });
  console.log(`\nreplayed in ${(ms / 1000).toFixed(0)} s`);
  if (!result) return;
  const baselineAlerts = [...result.daily].flatMap(([table, days]) => evaluateElementary(table, days, scenario.evaluationStart));
  const pipewarden = scoreDetections(scenario, result.alerts, { stepMs: options.stepHours * HOUR_MS });
  const baseline = scoreDetections(scenario, baselineAlerts, { stepMs: DAY_MS });
  reportQuality(pipewarden, baseline);
  if (options.explain) explainAlarms(scenario, pipewarden, result.warnings);
}

await main();
