// Reads one SQLMesh environment's models and their prod intervals from the state database.
// SQLMesh owns these tables and takes row locks on them, so pipewarden only ever reads, inside one
// READ ONLY transaction (the server refuses any write, whatever the URL's options say) with its
// own statement and lock timeouts; REPEATABLE READ so the environment, its snapshots and their
// intervals are one consistent picture even while a plan is being applied.

import { pino, type Logger } from 'pino';
import { PipewardenError } from '../../errors.ts';
import { createReadPool, inReadOnlySnapshot, withReadSession, type StatementClient } from '../../warehouse/postgres-session.ts';
import type { SqlmeshModel } from './evaluate-sqlmesh-intervals.ts';
import { mergeIntervalRecords, type IntervalRecord } from './merge-intervals.ts';
import { parseEnvironmentSnapshots, parseIntervalRow, parseSnapshotModel, parseTimeLike, SqlmeshStateParseError, unquoteModelName, type EnvironmentSnapshotRef } from './parse-sqlmesh-state.ts';
import { selectEnvironment, selectEnvironmentNames, selectProdIntervals, selectSnapshotsByVersion, selectVersions, type SnapshotRow } from './sqlmesh-state-queries.ts';

export interface SqlmeshStateSource {
  /** The source's name in the config, for messages. */
  name: string;
  url: string;
  schema: string;
  environment: string;
  statementTimeoutMs: number;
}

export interface SqlmeshState {
  schemaVersion: number | undefined;
  sqlmeshVersion: string | undefined;
  /** Things a person should know that did not stop the read (an unknown state version…). */
  notes: string[];
  models: SqlmeshModel[];
}

/** The state schema versions whose tables this reader was written against (notes/sqlmesh_state_tables.md). */
export const KNOWN_SCHEMA_VERSIONS = { min: 60, max: 101 } as const;

const CONNECT_TIMEOUT_MS = 10_000;
/** For callers without a logger (a connection dropped while idle is only worth a warning). */
const QUIET = pino({ enabled: false });
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_SCHEMA = '3F000';

export class SqlmeshStateError extends PipewardenError {}

/**
 * Runs `work` in a read-only, time-limited snapshot on a connection of its own, opened the way
 * every warehouse read is (src/warehouse/postgres-session.ts: read-only from the session's start,
 * whatever the URL says; statement and lock timeouts; UTC) and closed afterwards.
 */
export async function withSqlmeshReadTransaction<T>(url: string, statementTimeoutMs: number, work: (client: StatementClient) => Promise<T>, logger: Logger = QUIET): Promise<T> {
  const pool = createReadPool({ url, maxConnections: 1, statementTimeoutMs, connectTimeoutMs: CONNECT_TIMEOUT_MS, logger });
  try {
    return await withReadSession(pool, { logger }, (client) => inReadOnlySnapshot(client, () => work(client)));
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The environment's models with their merged prod intervals; `now` resolves relative starts. */
export async function readSqlmeshState(source: SqlmeshStateSource, now: Date, logger?: Logger): Promise<SqlmeshState> {
  try {
    return await withSqlmeshReadTransaction(source.url, source.statementTimeoutMs, (client) => readState(client, source, now.getTime()), logger);
  } catch (error) {
    if (error instanceof PipewardenError) throw error;
    throw new SqlmeshStateError('sqlmesh_state_unreadable', `${describeSource(source)}: ${describeReadFailure(error, source)}`, { cause: error });
  }
}

async function readState(client: StatementClient, source: SqlmeshStateSource, now: number): Promise<SqlmeshState> {
  const notes: string[] = [];
  const versions = await selectVersions(client, source.schema);
  const schemaVersion = versions[0]?.schema_version === null || versions[0] === undefined ? undefined : Number(versions[0].schema_version);
  const sqlmeshVersion = versions[0]?.sqlmesh_version ?? undefined;
  const versionNote = describeUnknownVersion(schemaVersion, sqlmeshVersion, source);
  if (versionNote !== undefined) notes.push(versionNote);

  const environment = await selectEnvironment(client, source.schema, source.environment);
  if (environment === undefined) {
    const names = await selectEnvironmentNames(client, source.schema);
    const present = names.length > 0 ? `environments there: ${names.map((name) => JSON.stringify(name)).join(', ')}` : 'it has no environments yet';
    throw new SqlmeshStateError('sqlmesh_environment_missing', `${describeSource(source)}: environment ${JSON.stringify(source.environment)} not found in ${JSON.stringify(source.schema)}._environments (${present}); set environment to the one SQLMesh plans into (\`prod\` unless renamed), or run \`sqlmesh plan\` first`);
  }
  if (environment.finalized_ts === null) notes.push(`${describeSource(source)}: environment ${JSON.stringify(source.environment)} has no finished plan (finalized_ts is NULL); its models are read as listed`);

  const where = `${describeSource(source)}: ${JSON.stringify(source.schema)}._environments[name=${JSON.stringify(source.environment)}].snapshots`;
  const refs = parseEnvironmentSnapshots(environment.snapshots, where);
  const names = refs.map((ref) => ref.name);
  const refVersions = refs.map((ref) => ref.version);
  const snapshots = await selectSnapshotsByVersion(client, source.schema, names, refVersions);
  const intervalRows = await selectProdIntervals(client, source.schema, names, refVersions);

  const recordsByVersion = new Map<string, IntervalRecord[]>();
  intervalRows.forEach(({ interval }, index) => {
    const record = parseIntervalRow(interval, `${describeSource(source)}: ${JSON.stringify(source.schema)}._intervals row ${JSON.stringify(interval['id'] ?? index)}`);
    if (record === undefined) return;
    const key = nameVersionKey(String(interval['name']), String(interval['version']));
    recordsByVersion.set(key, [...(recordsByVersion.get(key) ?? []), record]);
  });

  const models = refs.map((ref) => modelOf(ref, pickSnapshot(ref, snapshots), recordsByVersion.get(nameVersionKey(ref.name, ref.version)) ?? [], source, now, notes));
  return { schemaVersion, sqlmeshVersion, notes, models };
}

function modelOf(ref: EnvironmentSnapshotRef, row: SnapshotRow | undefined, records: IntervalRecord[], source: SqlmeshStateSource, now: number, notes: string[]): SqlmeshModel {
  const intervals = mergeIntervalRecords(records);
  const fallbackName = unquoteModelName(ref.name);
  const empty = { cron: undefined, cronTimezone: undefined, intervalUnit: undefined, start: undefined, end: undefined, intervals };
  if (row === undefined) {
    return { ...empty, name: fallbackName, kind: ref.kindName, problem: `snapshot ${ref.identifier ?? `version ${ref.version}`} listed in environment ${JSON.stringify(source.environment)} is missing from ${JSON.stringify(source.schema)}._snapshots; the environment may be mid-plan or cleaned up by the janitor` };
  }
  try {
    const info = parseSnapshotModel(row.snapshot, `${JSON.stringify(source.schema)}._snapshots[name=${row.name}, identifier=${row.identifier}].snapshot`);
    const name = info.displayName ?? fallbackName;
    const start = readTimeLike(info.start, 'start', name, now, notes);
    const end = readTimeLike(info.end, 'end', name, now, notes);
    return { name, kind: info.kind ?? row.kind_name ?? ref.kindName, cron: info.cron, cronTimezone: info.cronTimezone, intervalUnit: info.intervalUnit, start, end, intervals };
  } catch (error) {
    if (!(error instanceof SqlmeshStateParseError)) throw error;
    return { ...empty, name: fallbackName, kind: row.kind_name ?? ref.kindName, problem: `cannot read its snapshot: ${error.message}` };
  }
}

function readTimeLike(value: unknown, field: string, model: string, now: number, notes: string[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = parseTimeLike(value, now);
  if (ms === undefined) notes.push(`sqlmesh:${model}: ${field} ${JSON.stringify(value)} is not a date pipewarden can read; judging intervals without it`);
  return ms;
}

/** The snapshot the environment names; by identifier, else the newest row of its version. */
function pickSnapshot(ref: EnvironmentSnapshotRef, rows: readonly SnapshotRow[]): SnapshotRow | undefined {
  const sameVersion = rows.filter((row) => row.name === ref.name && row.version === ref.version);
  const exact = sameVersion.find((row) => row.identifier === ref.identifier);
  if (exact !== undefined) return exact;
  return [...sameVersion].sort((a, b) => Number(b.updated_ts ?? 0) - Number(a.updated_ts ?? 0))[0];
}

function nameVersionKey(name: string, version: string): string {
  return JSON.stringify([name, version]);
}

function describeUnknownVersion(schemaVersion: number | undefined, sqlmeshVersion: string | undefined, source: SqlmeshStateSource): string | undefined {
  const where = `${describeSource(source)}: ${JSON.stringify(source.schema)}._versions`;
  if (schemaVersion === undefined || Number.isNaN(schemaVersion)) return `${where} has no schema_version; reading the tables as state schema version ${KNOWN_SCHEMA_VERSIONS.max}`;
  if (schemaVersion >= KNOWN_SCHEMA_VERSIONS.min && schemaVersion <= KNOWN_SCHEMA_VERSIONS.max) return undefined;
  const written = sqlmeshVersion ? ` (written by SQLMesh ${sqlmeshVersion})` : '';
  return `${where}: state schema version ${schemaVersion}${written} is not one pipewarden knows (${KNOWN_SCHEMA_VERSIONS.min}–${KNOWN_SCHEMA_VERSIONS.max}); read leniently anyway, so check these findings against \`sqlmesh info\` and report the version if they look wrong`;
}

function describeSource(source: SqlmeshStateSource): string {
  return `SQLMesh state ${JSON.stringify(source.name)}`;
}

function describeReadFailure(error: unknown, source: SqlmeshStateSource): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) {
    return `${message}: schema ${JSON.stringify(source.schema)} does not hold SQLMesh's state tables; set schema to the gateway's state_schema (default "sqlmesh")`;
  }
  return `could not read the state database (${message}); check its url and that the role may read schema ${JSON.stringify(source.schema)}`;
}
