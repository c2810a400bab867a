// `rollback`: makes the newest version of a table live again, in one transaction, and keeps the
// table it replaces as the newest version, so a rollback can itself be undone by another. With
// `audit`, it restores the newest version that passes the audits instead, skipping newer ones
// that fail: after several bad publishes in a row, the last good one. The
// versions are the ones `publish` keeps (table-versions.ts says how they are named and what a
// swap carries); this step does not drop any, the next publish prunes.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { StepFailedError } from '../action.ts';
import { stepWarehouse } from './sql.ts';
import { auditInput, checkAuditDefinition, describeAuditFailure, runAudits, type AuditInput } from './table-audits.ts';
import {
  checkVersionable,
  commentOnTable,
  failedOnWarehouse,
  isOwnMark,
  lockTables,
  nextVersionName,
  noVersionsError,
  parseMark,
  refuseDependents,
  renameTable,
  selectTable,
  selectVersions,
  tableRefInput,
  withMark,
} from './table-versions.ts';

export const rollbackInput = z.strictObject({
  warehouse: z.string().min(1).optional().describe("Warehouse to write to. Default: the run's asset's warehouse."),
  table: tableRefInput.describe('The live table to roll back, `schema.name` or {schema, name}.'),
  audit: auditInput.optional().describe('Restore the newest version that passes these audits (default: the newest version).'),
});

export type RollbackInput = z.output<typeof rollbackInput>;

/** The failure message names the newest versions passed over; the outputs keep them all. */
const MAX_SKIPPED_SHOWN = 3;

export const rollbackAction: RunbookAction<RollbackInput> = {
  name: 'rollback',
  input: rollbackInput,
  // Honest because of the mark a rollback leaves on the table it restores: a repeat finds it and stops.
  idempotent: true,
  destructive: true,
  checkDefinition: checkAuditDefinition,
  async run(input, context) {
    const warehouse = stepWarehouse(input.warehouse, context);
    checkVersionable(input.table);
    try {
      return await context.warehouseWriter(warehouse).transaction((client) => rollBack(client, input, context), context.signal);
    } catch (error) {
      throw failedOnWarehouse(error, `Rolling back ${qualifiedName(input.table)}`, warehouse);
    }
  },
};

async function rollBack(client: pg.ClientBase, input: RollbackInput, context: ActionContext): Promise<StepOutputs> {
  const { table } = input;
  let live = await selectTable(client, table);
  if (live !== undefined) {
    await lockTables(client, [table]);
    // Read again under the lock: a swap may have committed while we waited for it.
    live = await selectTable(client, table);
  }
  const mark = parseMark(live?.comment ?? null);
  if (isOwnMark(mark, 'rollback', context)) {
    return { restored: mark.restored ?? null, version: mark.version, versions: await selectVersions(client, table), already_done: true };
  }
  const versions = await selectVersions(client, table);
  if (versions.length === 0) throw noVersionsError(table);
  const { name: newest, skipped } = await versionToRestore(client, table, versions, input.audit);
  const restored = { schema: table.schema, name: newest };
  await lockTables(client, [restored]);
  const restoredComment = (await selectTable(client, restored))?.comment ?? null;
  if (live !== undefined) await refuseDependents(client, table, live.oid);
  const version = live === undefined ? null : nextVersionName(table, versions, context.now());
  if (version !== null) await renameTable(client, table, version);
  await renameTable(client, restored, table.name);
  const at = context.now().toISOString();
  await commentOnTable(client, table, withMark(restoredComment, { action: 'rollback', run: context.runId, step: context.step, version, restored: newest, at }));
  return { restored: newest, version, versions: await selectVersions(client, table), skipped, already_done: false };
}

/** The newest version, or with an audit the newest that passes it; names the ones passed over and why. */
async function versionToRestore(client: pg.ClientBase, table: TableRef, versions: readonly string[], audit: AuditInput | undefined): Promise<{ name: string; skipped: string[] }> {
  if (audit === undefined) return { name: versions.at(-1) as string, skipped: [] };
  const skipped: string[] = [];
  for (const name of [...versions].reverse()) {
    const failed = (await runAudits(client, { schema: table.schema, name }, audit)).filter((result) => !result.passed);
    if (failed.length === 0) return { name, skipped };
    skipped.push(`${name} (${failed.map(describeAuditFailure).join('; ')})`);
  }
  const shown = skipped.length > MAX_SKIPPED_SHOWN ? [...skipped.slice(0, MAX_SKIPPED_SHOWN), `and ${skipped.length - MAX_SKIPPED_SHOWN} older`] : skipped;
  throw new StepFailedError(`No version of ${qualifiedName(table)} passes the audit, so none was restored: ${shown.join(', ')}.`, { skipped });
}
