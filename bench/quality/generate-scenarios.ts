// Generates labeled scenarios from a seed: tables with hourly and weekly seasonality, a trend,
// over-dispersed noise (negative binomial hours on top of a log-normal day effect), each with at
// most one injected incident at a random time after the clean history, plus clean tables.
// Deterministic: the same options give the same scenario, hour for hour.

import { createRandom, type Random } from './prng.ts';
import {
  DAY_MS,
  HOUR_MS,
  INCIDENT_KINDS,
  type Cadence,
  type HourSlice,
  type Incident,
  type IncidentKind,
  type Scenario,
  type TableScenario,
} from './scenario.ts';

export interface GenerateOptions {
  seed: number;
  tables: number;
  days: number;
  /** Clean days before incidents may start (the baselines' history). */
  historyDays: number;
  /** Share of tables without an incident. */
  cleanShare?: number;
  start?: Date;
}

interface Shape {
  cadence: Cadence;
  /** Mean rows per hour at a weekday midday, at the start. */
  rate: number;
  weekendFactor: number;
  /** How deep the night dip goes (0 = none, 0.8 = nights at a fifth of the day). */
  nightDip: number;
  batchHour: number;
  trendPerDay: number;
  /** Negative-binomial dispersion of hourly counts; smaller is noisier. */
  dispersion: number;
  /** Log-space sigma of the whole-day multiplier (busy and quiet days). */
  daySigma: number;
  nullRate: number;
}

export const DEFAULT_START = new Date('2025-01-06T00:00:00Z'); // a Monday

export function generateScenario(options: GenerateOptions): Scenario {
  const random = createRandom(options.seed);
  const start = options.start ?? DEFAULT_START;
  const evaluationStart = new Date(start.getTime() + options.historyDays * DAY_MS);
  const kinds = incidentPlan(options.tables, options.cleanShare ?? 0.3, random);
  const tables = kinds.map((kind, index) => generateTable(`t_${String(index).padStart(4, '0')}`, kind, options, start, evaluationStart, random));
  return { seed: options.seed, start, days: options.days, evaluationStart, tables };
}

/** Which tables get which incident: kinds in equal turns, the clean share without, shuffled. */
function incidentPlan(tables: number, cleanShare: number, random: Random): (IncidentKind | null)[] {
  const clean = Math.round(tables * cleanShare);
  const plan: (IncidentKind | null)[] = [];
  for (let i = 0; i < tables - clean; i++) plan.push(INCIDENT_KINDS[i % INCIDENT_KINDS.length] as IncidentKind);
  for (let i = 0; i < clean; i++) plan.push(null);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = random.integer(0, i);
    [plan[i], plan[j]] = [plan[j] as IncidentKind | null, plan[i] as IncidentKind | null];
  }
  return plan;
}

function drawShape(random: Random): Shape {
  return {
    cadence: random.next() < 0.2 ? 'daily_batch' : 'continuous',
    rate: Math.exp(random.uniform(Math.log(20), Math.log(400))),
    weekendFactor: random.next() < 0.3 ? 1 : random.uniform(0.3, 0.85),
    nightDip: random.uniform(0, 0.85),
    batchHour: random.integer(1, 6),
    trendPerDay: random.uniform(-0.004, 0.01),
    dispersion: random.uniform(15, 80),
    daySigma: random.uniform(0.03, 0.12),
    nullRate: random.uniform(0.005, 0.05),
  };
}

function generateTable(name: string, kind: IncidentKind | null, options: GenerateOptions, start: Date, evaluationStart: Date, random: Random): TableScenario {
  const shape = drawShape(random);
  const mix = drawMix(random);
  const end = start.getTime() + options.days * DAY_MS;
  const incident = kind === null ? null : drawIncident(kind, evaluationStart.getTime(), end, shape.cadence, random);
  const hours: HourSlice[] = [];
  let dayFactor = 1;
  for (let t = start.getTime(); t < end; t += HOUR_MS) {
    const date = new Date(t);
    if (date.getUTCHours() === 0) dayFactor = random.logNormal(shape.daySigma);
    const mean = expectedRows(shape, date, (t - start.getTime()) / DAY_MS) * dayFactor;
    const slice: HourSlice = { rows: random.negativeBinomial(mean, shape.dispersion), nullRate: shape.nullRate, shifted: false };
    hours.push(incident ? applyIncident(slice, incident, t) : slice);
  }
  return { name, cadence: shape.cadence, hours, mix, shiftedMix: shiftMix(mix), incident };
}

/** Mean rows in the hour starting at `date` before noise: trend × weekday × time of day. */
function expectedRows(shape: Shape, date: Date, day: number): number {
  const weekday = date.getUTCDay();
  const weekly = weekday === 0 || weekday === 6 ? shape.weekendFactor : 1;
  const trend = Math.max(0.1, 1 + shape.trendPerDay * day);
  if (shape.cadence === 'daily_batch') return date.getUTCHours() === shape.batchHour ? shape.rate * 24 * weekly * trend : 0;
  // A smooth dip centred at 03:00 UTC, about eight hours wide.
  const distance = Math.min(Math.abs(date.getUTCHours() + 0.5 - 3), 24 - Math.abs(date.getUTCHours() + 0.5 - 3));
  const dip = distance < 4 ? shape.nightDip * (0.5 + 0.5 * Math.cos((Math.PI * distance) / 4)) : 0;
  return shape.rate * weekly * trend * (1 - dip);
}

function drawMix(random: Random): number[] {
  const weights = [random.uniform(0.4, 0.7), random.uniform(0.15, 0.35), random.uniform(0.02, 0.08), random.uniform(0.01, 0.05)];
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/** A broken upstream: the commonest status loses most of its share to `cancelled`. */
function shiftMix(mix: readonly number[]): number[] {
  const moved = (mix[0] ?? 0) * 0.6;
  return mix.map((share, index) => (index === 0 ? share - moved : index === 2 ? share + moved : share));
}

function drawIncident(kind: IncidentKind, from: number, to: number, cadence: Cadence, random: Random): Incident {
  // Incidents start on an hour, early enough that a daily check gets a full day after them.
  const latest = to - 2 * DAY_MS;
  const start = from + Math.floor(random.uniform(0, (latest - from) / HOUR_MS)) * HOUR_MS;
  // A batch table only shows an incident if the window holds a batch: more than a day.
  const shortest = cadence === 'daily_batch' ? 25 : 0;
  const hours = (low: number, high: number) => random.integer(Math.max(low, shortest), Math.max(high, shortest)) * HOUR_MS;
  switch (kind) {
    case 'feed_stop':
      return { kind, start: new Date(start), end: new Date(Math.min(to, start + hours(12, 48))), magnitude: 0 };
    case 'volume_drop':
      return { kind, start: new Date(start), end: new Date(start + hours(24, 48)), magnitude: random.uniform(0.1, 0.7) };
    case 'spike':
      return { kind, start: new Date(start), end: new Date(start + hours(6, 24)), magnitude: random.uniform(3, 6) };
    case 'null_rate_jump':
      return { kind, start: new Date(start), end: new Date(start + hours(24, 48)), magnitude: random.uniform(0.15, 0.5) };
    case 'distribution_shift':
      return { kind, start: new Date(start), end: new Date(start + hours(24, 48)), magnitude: 0.6 };
    case 'column_dropped':
    case 'table_dropped':
      return { kind, start: new Date(start), end: new Date(to), magnitude: 0 };
  }
}

function applyIncident(slice: HourSlice, incident: Incident, t: number): HourSlice {
  if (t < incident.start.getTime() || t >= incident.end.getTime()) return slice;
  switch (incident.kind) {
    case 'feed_stop':
    case 'table_dropped':
      return { ...slice, rows: 0 };
    case 'volume_drop':
      return { ...slice, rows: Math.round(slice.rows * incident.magnitude) };
    case 'spike':
      return { ...slice, rows: Math.round(slice.rows * incident.magnitude) };
    case 'null_rate_jump':
      return { ...slice, nullRate: Math.min(1, slice.nullRate + incident.magnitude) };
    case 'distribution_shift':
      return { ...slice, shifted: true };
    case 'column_dropped':
      return slice;
  }
}
