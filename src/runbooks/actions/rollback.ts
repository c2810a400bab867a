// `rollback`: makes the newest version of a table live again, in one transaction, and keeps the
// table it replaces as the newest version, so a rollback can itself be undone by another. The
// versions are the ones `publish` keeps (table-versions.ts says how they are named and what a
// swap carries); this step does not drop any, the next publish prunes.

import type pg from 'pg';
import { z } from 'zod';
import { qualifiedName } from '../../warehouse/quote.ts';
import type { TableRef } from '../../warehouse/warehouse.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { stepWarehouse } from './sql.ts';
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
});

export type RollbackInput = z.output<typeof rollbackInput>;

export const rollbackAction: RunbookAction<RollbackInput> = {
  name: 'rollback',
  input: rollbackInput,
  // Honest because of the mark a rollback leaves on the table it restores: a repeat finds it and stops.
  idempotent: true,
  destructive: true,
  async run(input, context) {
    const warehouse = stepWarehouse(input.warehouse, context);
    checkVersionable(input.table);
    try {
      return await context.warehouseWriter(warehouse).transaction((client) => rollBack(client, input.table, context), context.signal);
    } catch (error) {
      throw failedOnWarehouse(error, `Rolling back ${qualifiedName(input.table)}`, warehouse);
    }
  },
};

async function rollBack(client: pg.ClientBase, table: TableRef, context: ActionContext): Promise<StepOutputs> {
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
  const newest = versions.at(-1);
  if (newest === undefined) throw noVersionsError(table);
  const restored = { schema: table.schema, name: newest };
  await lockTables(client, [restored]);
  const restoredComment = (await selectTable(client, restored))?.comment ?? null;
  if (live !== undefined) await refuseDependents(client, table, live.oid);
  const version = live === undefined ? null : nextVersionName(table, versions, context.now());
  if (version !== null) await renameTable(client, table, version);
  await renameTable(client, restored, table.name);
  const at = context.now().toISOString();
  await commentOnTable(client, table, withMark(restoredComment, { action: 'rollback', run: context.runId, step: context.step, version, restored: newest, at }));
  return { restored: newest, version, versions: await selectVersions(client, table), already_done: false };
}
