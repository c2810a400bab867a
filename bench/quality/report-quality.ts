// Prints the detection-quality comparison: per incident kind and overall, pipewarden's real path
// beside the Elementary-defaults baseline, scored on the same scenario in the same run.

import { printTable, type Cell } from '../lib/print-table.ts';
import type { DetectionScore, KindScore } from './score-detections.ts';

const recall = (score: KindScore): Cell => (Number.isNaN(score.recall) ? null : score.recall);
const delay = (score: KindScore): Cell => score.meanDelayHours;

export function reportQuality(pipewarden: DetectionScore, baseline: DetectionScore): void {
  const rows: Cell[][] = [...pipewarden.kinds, pipewarden.overall].map((score, index) => {
    const base = index < pipewarden.kinds.length ? (baseline.kinds[index] as KindScore) : baseline.overall;
    return [score.kind, score.incidents, recall(score), recall(base), delay(score), delay(base)];
  });
  printTable('Recall and mean detection delay (hours from incident start to first alarm)', ['incident', 'n', 'pipewarden recall', 'elementary recall', 'pipewarden delay h', 'elementary delay h'], rows);
  printTable(
    'Alarms (an alarm = a check alerting on consecutive evaluations, counted once)',
    ['detector', 'alarms', 'false alarms', 'precision', 'false alarms / 1,000 table-days', 'table-days'],
    [
      ['pipewarden', pipewarden.alarms, pipewarden.falseAlarms, Number.isNaN(pipewarden.precision) ? null : pipewarden.precision, pipewarden.falseAlarmsPer1000TableDays, pipewarden.tableDays],
      ['elementary defaults', baseline.alarms, baseline.falseAlarms, Number.isNaN(baseline.precision) ? null : baseline.precision, baseline.falseAlarmsPer1000TableDays, baseline.tableDays],
    ],
  );
  const byCheck = (score: DetectionScore) => Object.entries(score.falseAlarmsByCheck).map(([check, n]) => `${check} ${n}`).join(', ') || 'none';
  console.log(`\nFalse alarms by check — pipewarden: ${byCheck(pipewarden)}; elementary: ${byCheck(baseline)}.`);
  for (const miss of pipewarden.missed) {
    console.log(`pipewarden missed: ${miss.kind} on ${miss.table} at ${miss.start.toISOString()} (magnitude ${miss.magnitude.toFixed(2)})`);
  }
  const targets = [
    ['recall ≥ 0.95', pipewarden.overall.recall >= 0.95],
    ['≤ 1 false alarm per 1,000 table-days', pipewarden.falseAlarmsPer1000TableDays <= 1],
    ['recall better than the baseline', pipewarden.overall.recall > baseline.overall.recall],
    ['fewer false alarms than the baseline', pipewarden.falseAlarmsPer1000TableDays < baseline.falseAlarmsPer1000TableDays],
  ] as const;
  console.log(`\nTargets: ${targets.map(([name, met]) => `${name}: ${met ? 'met' : 'NOT met'}`).join('; ')}.`);
}
