// Offline replay of the volume check alone, in memory: the scenario's hourly counts (exactly what
// the profile measures from `loaded_at`), the same ticks, the same exclusion of buckets whose
// finding warned or failed, evaluateVolume as the profile calls it. Seconds instead of minutes, to
// iterate on the volume detector; the figures of record come from bench/detection-quality.ts.
//
//   node bench/quality/volume-offline.ts [--seed 1] [--tables 30] [--explain 1]

import { baselineSettingsFromVolume, evaluateVolume } from '../../src/detect/volume.ts';
import type { SeriesPoint } from '../../src/detect/series.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { Finding } from '../../src/types.ts';
import { parseFlags, positiveInteger } from '../lib/bench-args.ts';
import { describeAlert } from './explain-alarms.ts';
import { generateScenario } from './generate-scenarios.ts';
import { DAY_MS, HOUR_MS, scenarioEnd } from './scenario.ts';
import { scoreDetections, type Alert } from './score-detections.ts';

const flags = parseFlags('volume-offline', {
  seed: { default: 1, description: 'PRNG seed' },
  tables: { default: 30, description: 'tables' },
  days: { default: 38, description: 'days' },
  'history-days': { default: 21, description: 'history days' },
  'step-hours': { default: 6, description: 'hours between ticks' },
  explain: { default: 0, description: '1: list false alarms and misses' },
});
const seed = positiveInteger('seed', flags.seed);
const stepMs = positiveInteger('step-hours', flags['step-hours']) * HOUR_MS;
const scenario = generateScenario({ seed, tables: positiveInteger('tables', flags.tables), days: positiveInteger('days', flags.days), historyDays: positiveInteger('history-days', flags['history-days']) });
const config = configSchema.parse({ warehouses: { bench: { type: 'postgres', url: 'postgres://unused' } }, monitors: [{ assets: '*', volume: { column: 'loaded_at', bucket: '1h' } }] });
const volume = config.monitors[0]!.volume!;
const settings = baselineSettingsFromVolume(volume, config.schedule.timezone);
const historyMs = config.profiling.history;

const alerts: Alert[] = [];
const warnings: Alert[] = [];
for (const table of scenario.tables) {
  const flagged = new Set<number>();
  const start = scenario.start.getTime();
  const firstFilled = table.hours.findIndex((h) => h.rows > 0);
  const dropAt = table.incident?.kind === 'table_dropped' ? table.incident.start.getTime() : Infinity;
  for (let t = scenario.evaluationStart.getTime(); t <= scenarioEnd(scenario).getTime(); t += stepMs) {
    if (t > dropAt) break;
    const oldest = Math.ceil((t - historyMs) / HOUR_MS) * HOUR_MS;
    const from = Math.max(start + firstFilled * HOUR_MS, oldest);
    const series: SeriesPoint[] = [];
    for (let b = from; b < t; b += HOUR_MS) {
      const value = table.hours[(b - start) / HOUR_MS]!.rows;
      series.push(flagged.has(b) ? { bucket: new Date(b), value, excluded: true } : { bucket: new Date(b), value });
    }
    const now = new Date(t);
    const finding: Finding = evaluateVolume({ asset: `bench.scenario.${table.name}`, series, settings, now });
    if (finding.bucket !== undefined) {
      const b = Date.parse(finding.bucket);
      if (finding.status === 'warn' || finding.status === 'fail') flagged.add(b);
      else flagged.delete(b);
    }
    const alert = { table: table.name, check: finding.check, at: now, finding };
    if (finding.status === 'fail') alerts.push(alert);
    if (finding.status === 'warn') warnings.push(alert);
  }
}
const score = scoreDetections(scenario, alerts, { stepMs });
const volumeKinds = ['feed_stop', 'volume_drop', 'spike'];
const kinds = score.kinds.filter((k) => volumeKinds.includes(k.kind)).map((k) => `${k.kind} ${k.detected}/${k.incidents}`);
console.log(`seed ${seed}: volume FA ${score.falseAlarms} (${score.falseAlarmsPer1000TableDays.toFixed(1)}/1k)  ${kinds.join('  ')}  tableDays ${score.tableDays.toFixed(0)}`);
if (flags.explain !== '0') {
  for (const alarm of score.falseAlarmList) console.log(`  FA ${describeAlert(alarm)}`);
  for (const miss of score.missed.filter((m) => volumeKinds.includes(m.kind))) {
    const incident = scenario.tables.find((t) => t.name === miss.table)?.incident;
    const end = incident ? incident.end.getTime() + DAY_MS : Infinity;
    console.log(`  MISS ${miss.kind} ${miss.table} ${miss.start.toISOString().slice(0, 16)} mag ${miss.magnitude.toFixed(2)} dur ${incident ? (incident.end.getTime() - incident.start.getTime()) / HOUR_MS : '?'}h`);
    for (const w of warnings.filter((w) => w.table === miss.table && w.at >= miss.start && w.at.getTime() <= end)) console.log(`    warn ${describeAlert(w)}`);
  }
}
