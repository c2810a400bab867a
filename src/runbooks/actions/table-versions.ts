// Table versions, shared by `publish` and `rollback`. A version is a whole former table kept
// beside the live one under the name `<name>__pw_v<yyyymmddhhmmss>` (UTC, same schema), so
// names sort oldest to newest and a rollback is two renames. Each stamp is later than every
// existing one (a second is added when the clock has not moved on), so two swaps within one
// second, or a clock that went back, never collide or reorder. Postgres cuts names at 63 bytes,
// so a table name longer than 43 bytes cannot have versions: the step refuses it.
//
// What a swap carries, because a rename keeps a table's identity (its OID) and only changes its
// name: indexes, constraints, triggers, grants, row-level security policies, owned sequences,
// planner statistics and comments all stay with their table. So the published table has the
// staging table's grants, indexes and statistics (grant, index and ANALYZE the staging table
// before publishing it), and the version keeps the old ones. Anything that points at a table by
// OID follows it to its new name: a view over the live table would, after a swap, read the
// version, and a foreign key would reference it. Rather than silently leave such readers on old
// data, `publish` and `rollback` refuse to swap a table that views, materialized views or
// foreign keys depend on, and name them.
//
// The last statement of a swap records in the live table's comment which run and step made
// it live. A step repeated after a crash (its transaction committed but the daemon died before
// recording that) finds its own mark and reports success without swapping again.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName, quoteIdentifier } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';
import { StepFailedError } from '../action.ts';
import type { ActionContext } from '../action.ts';

export const VERSION_INFIX = '__pw_v';
const STAMP_DIGITS = 14;
const MAX_NAME_BYTES = 63;
const MARK_PREFIX = 'pipewarden: ';

/** `{schema, name}` or `"schema.name"` (split at the first dot; use the object form when a schema has a dot). */
export const tableRefInput = z.union([
  z.strictObject({ schema: z.string().min(1), name: z.string().min(1) }),
  z
    .string()
    .regex(/^[^.]+\..+$/, 'expected "schema.name" or {schema, name}')
    .transform((text): TableRef => {
      const dot = text.indexOf('.');
      return { schema: text.slice(0, dot), name: text.slice(dot + 1) };
    }),
]);

export interface SwapMark {
  action: 'publish' | 'rollback';
  run: string;
  step: string;
  /** The version the previous live table became (null when there was none). */
  version: string | null;
  /** For a rollback: the version made live again. */
  restored?: string;
  at: string;
}

export interface LiveTable {
  oid: number;
  comment: string | null;
}

export function versionPrefix(table: TableRef): string {
  return `${table.name}${VERSION_INFIX}`;
}

export function checkVersionable(table: TableRef): void {
  const bytes = Buffer.byteLength(versionPrefix(table)) + STAMP_DIGITS;
  if (bytes > MAX_NAME_BYTES) {
    throw new StepFailedError(
      `Table ${qualifiedName(table)} has too long a name to keep versions beside it (Postgres names are at most ${MAX_NAME_BYTES} bytes, and versions add ${bytes - Buffer.byteLength(table.name)}); shorten the table name.`,
    );
  }
}

/** A stamp after `now` and after every existing version, so the new version sorts last. */
export function nextVersionName(table: TableRef, versions: readonly string[], now: Date): string {
  const newest = versions.at(-1);
  let at = new Date(Math.floor(now.getTime() / 1000) * 1000);
  if (newest !== undefined) {
    const after = stampTime(newest.slice(-STAMP_DIGITS)).getTime() + 1000;
    if (after > at.getTime()) at = new Date(after);
  }
  return `${versionPrefix(table)}${at.toISOString().replace(/[-:T]/g, '').slice(0, STAMP_DIGITS)}`;
}

/** `yyyymmddhhmmss` (UTC) as a time. */
function stampTime(stamp: string): Date {
  return new Date(stamp.replace(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/, '$1-$2-$3T$4:$5:$6Z'));
}

export function parseMark(comment: string | null): SwapMark | undefined {
  const line = comment?.split('\n').find((text) => text.startsWith(MARK_PREFIX));
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line.slice(MARK_PREFIX.length)) as SwapMark;
  } catch {
    return undefined;
  }
}

export function isOwnMark(mark: SwapMark | undefined, action: SwapMark['action'], context: ActionContext): mark is SwapMark {
  return mark !== undefined && mark.action === action && mark.run === context.runId && mark.step === context.step;
}

/** The table's own comment with our mark line replaced: a comment people wrote is kept. */
export function withMark(comment: string | null, mark: SwapMark): string {
  const kept = (comment ?? '').split('\n').filter((text) => text !== '' && !text.startsWith(MARK_PREFIX));
  return [...kept, `${MARK_PREFIX}${JSON.stringify(mark)}`].join('\n');
}

export function missingTable(table: TableRef, role: string): StepFailedError {
  return new StepFailedError(`The ${role} table ${qualifiedName(table)} does not exist, or the write_url role cannot see it.`);
}

// ---- SQL: one statement per function; names quoted by the helper, values as parameters.

export async function selectTable(client: pg.ClientBase, table: TableRef): Promise<LiveTable | undefined> {
  const result = await client.query<{ oid: number; comment: string | null }>(
    `SELECT c.oid, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table.schema, table.name],
  );
  return result.rows[0];
}

/** Versions of the table, oldest first. */
export async function selectVersions(client: pg.ClientBase, table: TableRef): Promise<string[]> {
  const prefix = versionPrefix(table);
  const result = await client.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND left(c.relname, length($2)) = $2
        AND substr(c.relname, length($2) + 1) ~ '^[0-9]{14}$'
      ORDER BY c.relname COLLATE "C"`,
    [table.schema, prefix],
  );
  return result.rows.map((row) => row.name);
}

/** Views, materialized views and foreign keys of other tables that would follow the table to its version name. */
export async function selectDependents(client: pg.ClientBase, oid: number): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `SELECT DISTINCT v.oid::regclass::text AS name
       FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1::oid AND v.oid <> $1::oid
     UNION
     SELECT conrelid::regclass::text FROM pg_constraint
      WHERE contype = 'f' AND confrelid = $1::oid AND conrelid <> $1::oid
     ORDER BY 1`,
    [oid],
  );
  return result.rows.map((row) => row.name);
}

/** Waits (up to lock_timeout) until no one else reads or writes the tables, and keeps them until commit. */
export async function lockTables(client: pg.ClientBase, tables: readonly TableRef[]): Promise<void> {
  await client.query(`LOCK TABLE ${tables.map(qualifiedName).join(', ')} IN ACCESS EXCLUSIVE MODE`);
}

export async function renameTable(client: pg.ClientBase, table: TableRef, newName: string): Promise<void> {
  await client.query(`ALTER TABLE ${qualifiedName(table)} RENAME TO ${quoteIdentifier(newName)}`);
}

export async function moveTable(client: pg.ClientBase, table: TableRef, schema: string): Promise<void> {
  await client.query(`ALTER TABLE ${qualifiedName(table)} SET SCHEMA ${quoteIdentifier(schema)}`);
}

export async function dropTable(client: pg.ClientBase, table: TableRef): Promise<void> {
  await client.query(`DROP TABLE ${qualifiedName(table)}`);
}

/** COMMENT takes no parameters, so the server's format(%L) writes the literal: no hand-made escaping. */
export async function commentOnTable(client: pg.ClientBase, table: TableRef, comment: string): Promise<void> {
  const built = await client.query<{ statement: string }>(`SELECT format('COMMENT ON TABLE %s IS %L', $1::text, $2::text) AS statement`, [qualifiedName(table), comment]);
  await client.query((built.rows[0] as { statement: string }).statement);
}

/** Refuses to swap a table others are tied to by OID: they would silently keep reading the old data. */
export async function refuseDependents(client: pg.ClientBase, table: TableRef, oid: number): Promise<void> {
  const dependents = await selectDependents(client, oid);
  if (dependents.length === 0) return;
  throw new StepFailedError(
    `Table ${qualifiedName(table)} was not swapped: ${dependents.join(', ')} depend on it, and Postgres ties a view or foreign key to the table itself, not its name, so after a swap they would go on reading the old table under its version name. Drop them, run the step, and create them again; or have them read a table that is not swapped.`,
    { dependents },
  );
}

/** A statement the warehouse rejected, as a failed step that says where and, for a lock wait, what to do. */
export function failedOnWarehouse(error: unknown, what: string, warehouse: string): unknown {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (!(error instanceof Error) || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return error;
  const hint = code === '55P03' ? ' Another session is using the table; retry the step later (add `retry:`).' : '';
  return new StepFailedError(`${what} failed on warehouse "${warehouse}": ${error.message} (SQLSTATE ${code}); nothing was changed.${hint}`, { sqlstate: code }, { cause: error });
}

export function noVersionsError(table: TableRef): StepFailedError {
  return new StepFailedError(`Table ${qualifiedName(table)} has no version to roll back to (versions are named ${versionPrefix(table)}<yyyymmddhhmmss> and kept by publish steps).`);
}
