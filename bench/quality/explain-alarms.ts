// `--explain`: why each false alarm happened and what pipewarden saw of each missed incident —
// the finding behind the alarm (check, bucket, observed, expected, score, message), so a rule
// can be fixed at the right depth instead of by turning a knob until the number looks good.

import type { Finding } from '../../src/types.ts';
import type { Scenario } from './scenario.ts';
import type { Alert, DetectionScore } from './score-detections.ts';

const number = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return '–';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
};

/** One alert as one line: when, check, bucket, observed vs expected, score, the finding's message. */
export function describeAlert(alert: Alert): string {
  const finding: Finding | undefined = alert.finding;
  const at = alert.at.toISOString().slice(0, 16);
  if (finding === undefined) return `${at}  ${alert.table}  ${alert.check}`;
  const expected = finding.expected ? `${number(finding.expected.low)}…${number(finding.expected.high)}` : '–';
  const bucket = finding.bucket ? finding.bucket.slice(0, 16) : '–';
  return `${at}  ${finding.check}  bucket ${bucket}  observed ${number(finding.observed)}  expected ${expected}  score ${number(finding.score)}\n    ${finding.message}`;
}

export function explainAlarms(scenario: Scenario, score: DetectionScore, warnings: readonly Alert[]): void {
  console.log(`\nFalse alarms (${score.falseAlarmList.length}), first alert of each:`);
  for (const alarm of score.falseAlarmList) console.log(`  ${describeAlert(alarm)}`);
  for (const miss of score.missed) {
    const incident = scenario.tables.find((t) => t.name === miss.table)?.incident;
    const end = incident ? incident.end.getTime() + 86_400_000 : Infinity;
    const seen = warnings.filter((w) => w.table === miss.table && w.at >= miss.start && w.at.getTime() <= end);
    console.log(`\nMissed ${miss.kind} on ${miss.table} from ${miss.start.toISOString().slice(0, 16)} (magnitude ${miss.magnitude.toFixed(2)}): ${seen.length} warnings, no failure`);
    for (const warning of seen) console.log(`  ${describeAlert(warning)}`);
  }
}
