// Audits of a table's contents, for `publish` (the staging table must pass before it goes live)
// and `rollback` (the version restored must pass, so a rollback past several bad publishes lands
// on the last good one). One scan of the table counts rows, NULLs and where_false rows.
//
// `audit.where_false` is SQL text, evaluated over the table. That is safe only while it is a
// constant the runbook's author wrote: the definition check rejects `${` in it, and an `audit`
// bound whole from a placeholder, since either would let a finding's or a parameter's text
// become SQL. The statement it is part of is sent with the extended protocol, so it cannot carry
// a second statement after a `;`.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName, quoteIdentifier } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';

export const auditInput = z.strictObject({
  min_rows: z.number().int().min(0).optional().describe('The table must have at least this many rows.'),
  not_null: z.array(z.string().min(1)).default([]).describe('Columns that must hold no NULL.'),
  unique: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Columns whose values together must not repeat (NULLs count as equal here, unlike in a UNIQUE constraint).'),
  where_false: z.string().min(1).optional().describe('A SQL condition over the table\'s columns that no row may meet, e.g. "amount < 0". Written out in the runbook, never bound.'),
});

export type AuditInput = z.output<typeof auditInput>;

export interface AuditResult {
  audit: 'min_rows' | 'not_null' | 'unique' | 'where_false';
  passed: boolean;
  /** Rows (min_rows), rows breaking the rule (not_null, where_false) or repeated keys (unique). */
  observed: number;
  column?: string;
  columns?: string[];
  expected?: number;
}

export function checkAuditDefinition(withValue: Record<string, unknown>): string[] {
  const audit = withValue.audit;
  if (typeof audit === 'string') return ['audit: must be written out in the runbook, not bound from "${…}": its where_false is SQL text.'];
  if (typeof audit !== 'object' || audit === null) return [];
  const whereFalse = (audit as Record<string, unknown>).where_false;
  if (typeof whereFalse === 'string' && whereFalse.includes('${')) {
    return ['audit.where_false: contains "${": it is SQL text, so it must be a constant of the runbook; values must never be spliced into it.'];
  }
  return [];
}

export function describeAuditFailure(result: AuditResult): string {
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

export async function runAudits(client: pg.ClientBase, staging: TableRef, audit: AuditInput): Promise<AuditResult[]> {
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
