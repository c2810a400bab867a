// `publish`: write-audit-publish. A pipeline writes a staging table; this step audits it and,
// only if every audit passes, swaps it in for the live table in one transaction: readers see the
// old table or the new one, never neither and never a half-written one. The old table is kept as
// a version (see table-versions.ts for names, what a rename carries and what it does not) so a
// `rollback` step can bring it back; versions beyond `keep` are dropped.
//
// `audit.where_false` is SQL text, evaluated over the staging table. That is safe only while it
// is a constant the runbook's author wrote: the definition check rejects `${` in it, and an
// `audit` bound whole from a placeholder, since either would let a finding's or a parameter's
// text become SQL. The statement it is part of is sent with the extended protocol, so it cannot
// carry a second statement after a `;`.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName, quoteIdentifier } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';
import { StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { stepWarehouse } from './sql.ts';
import {
  checkVersionable,
  commentOnTable,
  dropTable,
  failedOnWarehouse,
  isOwnMark,
  lockTables,
  missingTable,
  moveTable,
  nextVersionName,
  parseMark,
  refuseDependents,
  renameTable,
  selectTable,
  selectVersions,
  tableRefInput,
  withMark,
} from './table-versions.ts';

const auditInput = z.strictObject({
  min_rows: z.number().int().min(0).optional().describe('The staging table must have at least this many rows.'),
  not_null: z.array(z.string().min(1)).default([]).describe('Columns that must hold no NULL.'),
  unique: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Columns whose values together must not repeat (NULLs count as equal here, unlike in a UNIQUE constraint).'),
  where_false: z.string().min(1).optional().describe('A SQL condition over the staging table\'s columns that no row may meet, e.g. "amount < 0". Written out in the runbook, never bound.'),
});

export const publishInput = z.strictObject({
  warehouse: z.string().min(1).optional().describe("Warehouse to write to. Default: the run's asset's warehouse."),
  table: tableRefInput.describe('The live table, `schema.name` or {schema, name}.'),
  staging: tableRefInput.describe('The audited table that replaces it.'),
  keep: z.number().int().min(0).default(3).describe('Former versions kept for rollback; older ones are dropped.'),
  audit: auditInput.prefault({}).describe('Checks the staging table must pass before it is published.'),
});

export type PublishInput = z.output<typeof publishInput>;
type AuditInput = PublishInput['audit'];

export interface AuditResult {
  audit: 'min_rows' | 'not_null' | 'unique' | 'where_false';
  passed: boolean;
  /** Rows (min_rows), rows breaking the rule (not_null, where_false) or repeated keys (unique). */
  observed: number;
  column?: string;
  columns?: string[];
  expected?: number;
}

export const publishAction: RunbookAction<PublishInput> = {
  name: 'publish',
  input: publishInput,
  // Honest because of the mark a publish leaves on the live table: a repeat finds it and stops.
  idempotent: true,
  destructive: true,
  checkDefinition: checkPublishDefinition,
  async run(input, context) {
    const warehouse = stepWarehouse(input.warehouse, context);
    checkVersionable(input.table);
    if (qualifiedName(input.table) === qualifiedName(input.staging)) throw new StepFailedError(`publish: \`staging\` and \`table\` are both ${qualifiedName(input.table)}; name the staging table.`);
    const what = `Publishing ${qualifiedName(input.staging)} as ${qualifiedName(input.table)}`;
    try {
      return await context.warehouseWriter(warehouse).transaction((client) => publish(client, input, context), context.signal);
    } catch (error) {
      throw failedOnWarehouse(error, what, warehouse);
    }
  },
};

function checkPublishDefinition(withValue: Record<string, unknown>): string[] {
  const audit = withValue.audit;
  if (typeof audit === 'string') return ['audit: must be written out in the runbook, not bound from "${…}": its where_false is SQL text.'];
  if (typeof audit !== 'object' || audit === null) return [];
  const whereFalse = (audit as Record<string, unknown>).where_false;
  if (typeof whereFalse === 'string' && whereFalse.includes('${')) {
    return ['audit.where_false: contains "${": it is SQL text, so it must be a constant of the runbook; values must never be spliced into it.'];
  }
  return [];
}

async function publish(client: pg.ClientBase, input: PublishInput, context: ActionContext): Promise<StepOutputs> {
  const { table, staging } = input;
  const live = await lockedTable(client, table);
  const mark = parseMark(live?.comment ?? null);
  if (isOwnMark(mark, 'publish', context)) {
    return { version: mark.version, versions: await selectVersions(client, table), audits: [], already_done: true };
  }
  const stagingTable = await selectTable(client, staging);
  if (stagingTable === undefined) throw missingTable(staging, 'staging');
  await lockTables(client, [staging]);
  if (live) await refuseDependents(client, table, live.oid);
  const audits = await runAudits(client, staging, input.audit);
  const failed = audits.filter((result) => !result.passed);
  if (failed.length > 0) {
    throw new StepFailedError(`Staging table ${qualifiedName(staging)} failed its audit (${failed.map(describeFailure).join('; ')}); nothing was published.`, { audits });
  }
  const version = live ? nextVersionName(table, await selectVersions(client, table), context.now()) : null;
  if (version !== null) await renameTable(client, table, version);
  await putInPlace(client, staging, table);
  const versions = await pruneVersions(client, table, input.keep);
  const at = context.now().toISOString();
  await commentOnTable(client, table, withMark(stagingTable.comment, { action: 'publish', run: context.runId, step: context.step, version, at }));
  return { version, versions, audits, already_done: false };
}

/** The live table, locked; read again after the lock, since a swap may have committed while we waited. */
async function lockedTable(client: pg.ClientBase, table: TableRef) {
  if ((await selectTable(client, table)) === undefined) return undefined;
  await lockTables(client, [table]);
  return selectTable(client, table);
}

async function putInPlace(client: pg.ClientBase, staging: TableRef, table: TableRef): Promise<void> {
  let moved = staging;
  if (staging.schema !== table.schema) {
    await moveTable(client, staging, table.schema);
    moved = { schema: table.schema, name: staging.name };
  }
  if (moved.name !== table.name) await renameTable(client, moved, table.name);
}

/** Drops the oldest versions beyond `keep`; returns the ones kept, oldest first. */
async function pruneVersions(client: pg.ClientBase, table: TableRef, keep: number): Promise<string[]> {
  const versions = await selectVersions(client, table);
  const dropped = versions.slice(0, Math.max(0, versions.length - keep));
  for (const name of dropped) await dropTable(client, { schema: table.schema, name });
  return versions.slice(dropped.length);
}

function describeFailure(result: AuditResult): string {
  switch (result.audit) {
    case 'min_rows':
      return `min_rows: ${result.observed} rows, expected at least ${result.expected}`;
    case 'not_null':
      return `not_null: ${result.observed} rows with ${result.column} NULL`;
    case 'unique':
      return `unique: ${result.observed} values of (${result.columns?.join(', ')}) repeat`;
    case 'where_false':
      return `where_false: ${result.observed} rows where it is true`;
  }
}

async function runAudits(client: pg.ClientBase, staging: TableRef, audit: AuditInput): Promise<AuditResult[]> {
  const counts = await selectAuditCounts(client, staging, audit.not_null, audit.where_false);
  const results: AuditResult[] = [];
  if (audit.min_rows !== undefined) results.push({ audit: 'min_rows', passed: counts.rows >= audit.min_rows, observed: counts.rows, expected: audit.min_rows });
  audit.not_null.forEach((column, index) => {
    const nulls = counts.nulls[index] ?? 0;
    results.push({ audit: 'not_null', column, passed: nulls === 0, observed: nulls });
  });
  if (audit.unique !== undefined) {
    const repeated = await selectRepeatedKeys(client, staging, audit.unique);
    results.push({ audit: 'unique', columns: audit.unique, passed: repeated === 0, observed: repeated });
  }
  if (counts.whereTrue !== undefined) results.push({ audit: 'where_false', passed: counts.whereTrue === 0, observed: counts.whereTrue });
  return results;
}

/** Row count, NULLs per column and rows meeting where_false, in one scan of the staging table. */
async function selectAuditCounts(client: pg.ClientBase, staging: TableRef, notNull: string[], whereFalse: string | undefined) {
  const columns = ['count(*)', ...notNull.map((column) => `count(*) FILTER (WHERE ${quoteIdentifier(column)} IS NULL)`)];
  if (whereFalse !== undefined) columns.push(`count(*) FILTER (WHERE (${whereFalse}))`);
  const result = await client.query({ text: `SELECT ${columns.join(', ')} FROM ${qualifiedName(staging)}`, rowMode: 'array', queryMode: 'extended' } as pg.QueryConfig);
  const values = (result.rows[0] as string[]).map(Number);
  return { rows: values[0] as number, nulls: values.slice(1, 1 + notNull.length), whereTrue: whereFalse === undefined ? undefined : values.at(-1) };
}

async function selectRepeatedKeys(client: pg.ClientBase, staging: TableRef, columns: string[]): Promise<number> {
  const key = columns.map(quoteIdentifier).join(', ');
  const result = await client.query<{ repeated: string }>(`SELECT count(*) AS repeated FROM (SELECT 1 FROM ${qualifiedName(staging)} GROUP BY ${key} HAVING count(*) > 1) AS keys`);
  return Number(result.rows[0]?.repeated ?? 0);
}
