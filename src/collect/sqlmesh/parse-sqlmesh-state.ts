// Lenient reading of the JSON SQLMesh keeps in its state tables. SQLMesh's migrations rewrite these
// documents between releases, so only the fields used are validated and everything else is
// ignored; a field that is missing or of the wrong type is named with its table, row and path.

import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { PipewardenError } from '../../errors.ts';
import type { IntervalRecord } from './merge-intervals.ts';

/** One snapshot promoted into an environment (an entry of `_environments.snapshots`). */
export interface EnvironmentSnapshotRef {
  /** Quoted, fully-qualified name as the state tables key it, e.g. `"sushi"."orders"`. */
  name: string;
  /** The snapshot's identifier, when the entry carries it or its fingerprint. */
  identifier: string | undefined;
  version: string;
  kindName: string | undefined;
}

const fingerprintSchema = z.looseObject({
  data_hash: z.string(),
  metadata_hash: z.string(),
  parent_data_hash: z.string().default('0'),
  parent_metadata_hash: z.string().default('0'),
});

const environmentEntrySchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  identifier: z.string().optional(),
  fingerprint: z.unknown().optional(),
  kind_name: z.string().nullish(),
  node_type: z.string().nullish(),
});

/** The model snapshots an environment's `snapshots` JSON lists (standalone audits left out). */
export function parseEnvironmentSnapshots(text: string | null, where: string): EnvironmentSnapshotRef[] {
  const entries = z.array(z.unknown()).safeParse(parseJson(text, where));
  if (!entries.success) throw new SqlmeshStateParseError(`${where}: expected a JSON array of snapshots`);
  const refs: EnvironmentSnapshotRef[] = [];
  entries.data.forEach((raw, index) => {
    const entry = environmentEntrySchema.safeParse(raw);
    if (!entry.success) throw new SqlmeshStateParseError(`${where}[${index}]: ${describeIssue(entry.error)}`);
    if (entry.data.node_type !== undefined && entry.data.node_type !== null && entry.data.node_type !== 'model') return;
    const fingerprint = fingerprintSchema.safeParse(entry.data.fingerprint);
    refs.push({
      name: entry.data.name,
      identifier: entry.data.identifier ?? (fingerprint.success ? snapshotIdentifier(fingerprint.data) : undefined),
      version: entry.data.version,
      kindName: entry.data.kind_name ?? undefined,
    });
  });
  return refs;
}

/**
 * SQLMesh's snapshot identifier: the CRC-32 (as decimal text) of the fingerprint's four hashes
 * joined with ";". Environments store the fingerprint, `_snapshots` and `_intervals` the
 * identifier, so this is how the two are joined.
 */
export function snapshotIdentifier(fingerprint: z.output<typeof fingerprintSchema>): string {
  const text = [fingerprint.data_hash, fingerprint.metadata_hash, fingerprint.parent_data_hash, fingerprint.parent_metadata_hash].join(';');
  return String(crc32(Buffer.from(text, 'utf8')));
}

/** What the evaluator needs from a snapshot's `node` (the model definition). */
export interface SnapshotModelInfo {
  displayName: string | undefined;
  kind: string | undefined;
  cron: string | undefined;
  cronTimezone: string | undefined;
  intervalUnit: string | undefined;
  start: unknown;
  end: unknown;
}

const nodeSchema = z.looseObject({
  name: z.string().optional(),
  kind: z.union([z.looseObject({ name: z.string() }), z.string()]).optional(),
  cron: z.string().nullish(),
  cron_tz: z.string().nullish(),
  interval_unit: z.string().nullish(),
  start: z.unknown().optional(),
  end: z.unknown().optional(),
});

const snapshotDocumentSchema = z.looseObject({ node: nodeSchema });

export function parseSnapshotModel(text: string | null, where: string): SnapshotModelInfo {
  const document = snapshotDocumentSchema.safeParse(parseJson(text, where));
  if (!document.success) throw new SqlmeshStateParseError(`${where}: ${describeIssue(document.error)}`);
  const node = document.data.node;
  return {
    displayName: node.name,
    kind: typeof node.kind === 'string' ? node.kind : node.kind?.name,
    cron: node.cron ?? undefined,
    cronTimezone: node.cron_tz ?? undefined,
    intervalUnit: node.interval_unit ?? undefined,
    start: node.start,
    end: node.end,
  };
}

const intervalRowSchema = z.looseObject({
  start_ts: z.coerce.number(),
  end_ts: z.coerce.number(),
  created_ts: z.coerce.number(),
  is_removed: z.boolean().nullish(),
  is_pending_restatement: z.boolean().nullish(),
});

/**
 * An `_intervals` row as a record to fold, or undefined for a pending-restatement row: that one
 * marks a range to be re-run later, not a range processed or removed.
 */
export function parseIntervalRow(row: Record<string, unknown>, where: string): IntervalRecord | undefined {
  const parsed = intervalRowSchema.safeParse(row);
  if (!parsed.success) throw new SqlmeshStateParseError(`${where}: ${describeIssue(parsed.error)}`);
  if (parsed.data.is_pending_restatement === true) return undefined;
  return { start: parsed.data.start_ts, end: parsed.data.end_ts, createdAt: parsed.data.created_ts, removed: parsed.data.is_removed === true };
}

/** `"sushi"."it""s"` → `sushi.it"s`: the name as people write it, when the snapshot lacks one. */
export function unquoteModelName(name: string): string {
  const parts = [...name.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((match) => (match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] as string)));
  return parts.length > 0 ? parts.join('.') : name;
}

const RELATIVE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_592_000_000, year: 31_536_000_000 };

/**
 * A SQLMesh time-like (`start` / `end` of a model) as epoch ms: epoch numbers, dates
 * ("2022-01-01", "Jan 1 2022"), zone-less timestamps (read as UTC, as SQLMesh does) and
 * "N days ago". Undefined when it is none of these.
 */
export function parseTimeLike(value: unknown, now: number): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d{10,}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00Z`);
  const zoneless = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(text);
  if (zoneless) return Date.parse(`${zoneless[1]}T${zoneless[2]}Z`);
  const relative = /^(\d+)\s+(minute|hour|day|week|month|year)s?\s+ago$/i.exec(text);
  if (relative) return now - Number(relative[1]) * (RELATIVE_UNITS_MS[(relative[2] as string).toLowerCase()] as number);
  if (/^(today|now)$/i.test(text)) return now;
  const parsed = Date.parse(/(z|utc|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text} UTC`);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** A state document that is not what SQLMesh writes, named by table, row and field. */
export class SqlmeshStateParseError extends PipewardenError {
  constructor(message: string) {
    super('sqlmesh_state_invalid', message);
  }
}

function parseJson(text: string | null, where: string): unknown {
  if (text === null) throw new SqlmeshStateParseError(`${where}: is NULL, expected a JSON document`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SqlmeshStateParseError(`${where}: is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'is not what SQLMesh writes';
  const path = issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : '';
  return `field${path || ' (top level)'}: ${issue.message}`;
}
