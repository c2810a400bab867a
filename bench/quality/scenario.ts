// The labeled scenarios of the detection-quality benchmark: what each simulated table looks like
// hour by hour and which incident (if any) was injected into it, when. Labels are the ground
// truth the scores are computed against.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const INCIDENT_KINDS = [
  'feed_stop',
  'volume_drop',
  'spike',
  'null_rate_jump',
  'distribution_shift',
  'column_dropped',
  'table_dropped',
] as const;

export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** One labeled incident: the table misbehaves over [start, end). Permanent ones end with the run. */
export interface Incident {
  kind: IncidentKind;
  start: Date;
  end: Date;
  /** Kind-specific size: kept share for a drop, multiplier for a spike, added null rate… */
  magnitude: number;
}

/** How rows arrive: spread over every hour, or as one batch a day at a fixed hour. */
export type Cadence = 'continuous' | 'daily_batch';

/** What one hour of a table holds. */
export interface HourSlice {
  rows: number;
  /** Probability that `amount` is NULL in this hour. */
  nullRate: number;
  /** Whether `status` follows the shifted category mix in this hour. */
  shifted: boolean;
}

export interface TableScenario {
  name: string;
  cadence: Cadence;
  /** One slice per hour from the scenario start. */
  hours: HourSlice[];
  /** Probabilities of STATUSES, normally and during a distribution shift. */
  mix: number[];
  shiftedMix: number[];
  incident: Incident | null;
}

export const STATUSES = ['paid', 'shipped', 'cancelled', 'refunded'] as const;

/** The column a `column_dropped` incident removes. */
export const DROPPED_COLUMN = 'note';

export interface Scenario {
  seed: number;
  start: Date;
  days: number;
  /** Incidents and scoring start here; the days before are clean history for the baselines. */
  evaluationStart: Date;
  tables: TableScenario[];
}

export function scenarioEnd(scenario: Scenario): Date {
  return new Date(scenario.start.getTime() + scenario.days * DAY_MS);
}

/** When a table stops existing (dropped), or null. */
export function droppedAt(table: TableScenario): Date | null {
  return table.incident?.kind === 'table_dropped' ? table.incident.start : null;
}
