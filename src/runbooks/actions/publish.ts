// `publish`: write-audit-publish. A pipeline writes a staging table; this step audits it and,
// only if every audit passes, swaps it in for the live table in one transaction: readers see the
// old table or the new one, never neither and never a half-written one. The old table is kept as
// a version (see table-versions.ts for names, what a rename carries and what it does not) so a
// `rollback` step can bring it back; versions beyond `keep` are dropped.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';
import { StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { stepWarehouse } from './sql.ts';
import { auditInput, checkAuditDefinition, describeAuditFailure, runAudits } from './table-audits.ts';
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

export const publishInput = z.strictObject({
  warehouse: z.string().min(1).optional().describe("Warehouse to write to. Default: the run's asset's warehouse."),
  table: tableRefInput.describe('The live table, `schema.name` or {schema, name}.'),
  staging: tableRefInput.describe('The audited table that replaces it.'),
  keep: z.number().int().min(0).default(3).describe('Former versions kept for rollback; older ones are dropped.'),
  audit: auditInput.prefault({}).describe('Checks the staging table must pass before it is published.'),
});

export type PublishInput = z.output<typeof publishInput>;

export const publishAction: RunbookAction<PublishInput> = {
  name: 'publish',
  input: publishInput,
  // Honest because of the mark a publish leaves on the live table: a repeat finds it and stops.
  idempotent: true,
  destructive: true,
  checkDefinition: checkAuditDefinition,
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
    throw new StepFailedError(`Staging table ${qualifiedName(staging)} failed its audit (${failed.map(describeAuditFailure).join('; ')}); nothing was published.`, { audits });
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
