// Replays a scenario through time. The history before the evaluation period is loaded at once;
// then `now` advances step by step, and before each evaluation only the rows of hours before
// `now` exist and only the schema incidents that started before `now` have happened. So every
// detector sees exactly what a daemon running at that moment would see — freshness and feed
// stops included, which loading all data up front and moving `now` alone would hide (the newest
// timestamp would already be in the future). The baseline's daily observations are measured at
// each midnight, from the same tables at the same moment.

import type pg from 'pg';
import type { DailyObservation } from './elementary-baseline.ts';
import { applySchemaIncidents, createScenarioTables, loadHours } from './load-scenario.ts';
import { measureDays } from './measure-daily.ts';
import { DAY_MS, scenarioEnd, type Scenario } from './scenario.ts';
import type { Alert } from './score-detections.ts';

export interface ReplayResult {
  alerts: Alert[];
  daily: Map<string, DailyObservation[]>;
}

export interface ReplayOptions {
  stepMs: number;
  evaluate: (now: Date) => Promise<Alert[]>;
  onProgress?: (now: Date) => void;
}

export async function replayScenario(pool: pg.Pool, scenario: Scenario, options: ReplayOptions): Promise<ReplayResult> {
  await createScenarioTables(pool, scenario);
  await loadHours(pool, scenario, scenario.start, scenario.evaluationStart);
  const lastUpdate = new Map<string, Date>();
  const daily = await measureDays(pool, scenario, scenario.start, scenario.evaluationStart, lastUpdate);
  const alerts: Alert[] = [];
  const end = scenarioEnd(scenario).getTime();
  for (let t = scenario.evaluationStart.getTime(); t <= end; t += options.stepMs) {
    const now = new Date(t);
    const previous = new Date(t - options.stepMs);
    if (t > scenario.evaluationStart.getTime()) {
      await loadHours(pool, scenario, previous, now);
      await applySchemaIncidents(pool, scenario, previous, now);
    }
    if (t > scenario.evaluationStart.getTime() && t % DAY_MS === 0) {
      const day = await measureDays(pool, scenario, new Date(t - DAY_MS), now, lastUpdate);
      for (const [table, observations] of day) daily.get(table)?.push(...observations);
    }
    alerts.push(...(await options.evaluate(now)));
    options.onProgress?.(now);
  }
  return { alerts, daily };
}
