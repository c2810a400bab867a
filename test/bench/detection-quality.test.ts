// The pure pieces of the detection-quality benchmark: the scenario generator, the scoring and
// the Elementary baseline. The benchmark itself is not run here (it needs minutes).

import { describe, expect, it } from 'vitest';
import { ELEMENTARY_WINDOW_DAYS, elementaryZScore, evaluateElementary, type DailyObservation } from '../../bench/quality/elementary-baseline.ts';
import { generateScenario } from '../../bench/quality/generate-scenarios.ts';
import { DAY_MS, HOUR_MS, INCIDENT_KINDS, type Scenario, type TableScenario } from '../../bench/quality/scenario.ts';
import { alarmsOf, countTableDays, scoreDetections, type Alert } from '../../bench/quality/score-detections.ts';

const OPTIONS = { seed: 7, tables: 30, days: 30, historyDays: 14 };

function hourIndex(scenario: Scenario, at: Date): number {
  return (at.getTime() - scenario.start.getTime()) / HOUR_MS;
}

function incidentHours(scenario: Scenario, table: TableScenario) {
  const incident = table.incident!;
  return table.hours.slice(hourIndex(scenario, incident.start), hourIndex(scenario, incident.end));
}

describe('generateScenario', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(generateScenario(OPTIONS)).toEqual(generateScenario(OPTIONS));
    expect(generateScenario({ ...OPTIONS, seed: 8 })).not.toEqual(generateScenario(OPTIONS));
  });

  it('injects every kind, after the history, plus clean tables', () => {
    const scenario = generateScenario(OPTIONS);
    const kinds = scenario.tables.map((t) => t.incident?.kind ?? null);
    for (const kind of INCIDENT_KINDS) expect(kinds).toContain(kind);
    expect(kinds.filter((kind) => kind === null)).toHaveLength(9);
    for (const t of scenario.tables) {
      expect(t.hours).toHaveLength(OPTIONS.days * 24);
      if (t.incident) expect(t.incident.start.getTime()).toBeGreaterThanOrEqual(scenario.evaluationStart.getTime());
    }
  });

  it('injects what the labels say', () => {
    const scenario = generateScenario(OPTIONS);
    for (const t of scenario.tables.filter((table) => table.incident)) {
      const hours = incidentHours(scenario, t);
      const incident = t.incident!;
      const before = t.hours.slice(0, hourIndex(scenario, scenario.evaluationStart));
      if (incident.kind === 'feed_stop' || incident.kind === 'table_dropped') expect(hours.every((h) => h.rows === 0)).toBe(true);
      if (incident.kind === 'null_rate_jump') expect(hours.every((h) => h.nullRate >= incident.magnitude)).toBe(true);
      if (incident.kind === 'distribution_shift') expect(hours.every((h) => h.shifted)).toBe(true);
      if (incident.kind === 'volume_drop') expect(incident.magnitude).toBeGreaterThanOrEqual(0.1);
      // Outside its window the table is untouched.
      expect(before.every((h) => !h.shifted && h.nullRate < 0.1)).toBe(true);
      // Every non-permanent window holds rows to affect (a batch table's window holds a batch).
      if (incident.kind !== 'column_dropped' && incident.kind !== 'table_dropped' && incident.kind !== 'feed_stop') {
        expect(hours.some((h) => h.rows > 0)).toBe(true);
      }
    }
  });
});

// A hand-made scenario: three tables over 10 days, evaluated from day 2.
function handMade(): Scenario {
  const start = new Date('2025-01-01T00:00:00Z');
  const at = (hours: number) => new Date(start.getTime() + hours * HOUR_MS);
  const table = (name: string, incident: TableScenario['incident']): TableScenario => ({ name, cadence: 'continuous', hours: [], mix: [], shiftedMix: [], incident });
  return {
    seed: 0,
    start,
    days: 10,
    evaluationStart: at(48),
    tables: [
      table('a', { kind: 'feed_stop', start: at(100), end: at(110), magnitude: 0 }),
      table('b', { kind: 'table_dropped', start: at(120), end: at(240), magnitude: 0 }),
      table('c', null),
    ],
  };
}

describe('scoreDetections', () => {
  const scenario = handMade();
  const at = (hours: number) => new Date(scenario.start.getTime() + hours * HOUR_MS);
  const alerts: Alert[] = [
    { table: 'a', check: 'freshness', at: at(103) },
    { table: 'a', check: 'freshness', at: at(104) }, // same episode
    { table: 'a', check: 'volume', at: at(140) }, // 30 h after the end: beyond the 24 h grace
    { table: 'b', check: 'schema', at: at(126) },
    { table: 'c', check: 'volume', at: at(60) },
    { table: 'c', check: 'volume', at: at(30) }, // before evaluation: ignored
  ];

  it('merges consecutive alerts into one alarm', () => {
    expect(alarmsOf(alerts, HOUR_MS)).toHaveLength(5);
  });

  it('computes recall, delay, precision and false alarms per 1,000 table-days', () => {
    const score = scoreDetections(scenario, alerts, { stepMs: HOUR_MS });
    expect(score.overall).toMatchObject({ incidents: 2, detected: 2, recall: 1, meanDelayHours: (3 + 6) / 2 });
    expect(score.kinds.map((k) => k.kind)).toEqual(['feed_stop', 'table_dropped']);
    expect(score.alarms).toBe(4);
    expect(score.falseAlarms).toBe(2);
    expect(score.falseAlarmsByCheck).toEqual({ volume: 2 });
    expect(score.precision).toBe(0.5);
    // a and c for 8 days each, b from day 2 until it was dropped at hour 120 (3 days).
    expect(countTableDays(scenario)).toBe(19);
    expect(score.falseAlarmsPer1000TableDays).toBeCloseTo((2 / 19) * 1000, 10);
  });

  it('reports no recall and no delay for a detector that never alerts', () => {
    const score = scoreDetections(scenario, [], { stepMs: HOUR_MS });
    expect(score.overall).toMatchObject({ detected: 0, recall: 0, meanDelayHours: null });
    expect(score.missed.map((miss) => miss.table)).toEqual(['a', 'b']);
    expect(score.precision).toBeNaN();
  });
});

describe('Elementary baseline', () => {
  it('computes the z-score of the last point with the point in the window (sample sd)', () => {
    // mean 4, sample variance ((−2)²+0+0+2²)/3 = 8/3, z = 2/√(8/3)
    expect(elementaryZScore([2, 4, 4, 6])).toBeCloseTo(2 / Math.sqrt(8 / 3), 12);
    expect(elementaryZScore([5, 5, 5])).toBe(0);
  });

  it('caps a single outlier at (n − 1)/√n: with 14 days even a huge one barely passes 3', () => {
    const window = [...Array<number>(13).fill(100), 1_000_000];
    expect(elementaryZScore(window)).toBeCloseTo(13 / Math.sqrt(14), 3);
  });

  it('alerts at the end of the day measured, on |z| > 3 and on schema changes', () => {
    const start = new Date('2025-01-01T00:00:00Z');
    const day = (i: number) => new Date(start.getTime() + i * DAY_MS);
    const counts = [100, 102, 98, 101, 99, 100, 103, 97, 100, 101, 99, 100, 102, 98, 0, 100];
    const days: DailyObservation[] = counts.map((rows, i) => ({ day: day(i), metrics: { row_count: rows }, columns: i < 15 ? ['a', 'b'] : ['a'] }));
    days.push({ day: day(16), metrics: null, columns: null });
    const alerts = evaluateElementary('t', days, day(ELEMENTARY_WINDOW_DAYS - 1));
    expect(alerts).toEqual([
      { table: 't', check: 'row_count', at: day(15) },
      { table: 't', check: 'schema:columns', at: day(16) },
      { table: 't', check: 'schema:table', at: day(17) },
    ]);
  });
});
