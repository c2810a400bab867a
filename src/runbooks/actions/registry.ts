// The actions this build can run, by name. Each action lives in its own file in this folder and
// registers here with one line; the runbook loader reports a step whose action is missing from
// this map as "not available in this build", and the executor runs only what is listed.

import type { RunbookAction } from '../action.ts';
import type { ActionName } from '../runbook-schema.ts';
import { approveAction } from './approve.ts';
import { backfillAction } from './backfill.ts';
import { commandAction } from './command.ts';
import { dbtAction } from './dbt.ts';
import { escalateAction } from './escalate.ts';
import { httpAction } from './http.ts';
import { notifyAction } from './notify.ts';
import { publishAction } from './publish.ts';
import { resolveAction } from './resolve.ts';
import { rollbackAction } from './rollback.ts';
import { silenceAction } from './silence.ts';
import { sqlAction } from './sql.ts';
import { verifyAction } from './verify.ts';
import { waitAction } from './wait.ts';

// Each action is typed by its own input; the registry only hands them bound, parsed inputs.
const ALL = [
  commandAction,
  dbtAction,
  sqlAction,
  httpAction,
  backfillAction,
  publishAction,
  rollbackAction,
  verifyAction,
  waitAction,
  notifyAction,
  approveAction,
  escalateAction,
  resolveAction,
  silenceAction,
] as unknown as RunbookAction<unknown>[];

export const ACTIONS: ReadonlyMap<ActionName, RunbookAction<unknown>> = new Map(ALL.map((action) => [action.name, action]));
