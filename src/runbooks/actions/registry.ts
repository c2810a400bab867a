// The actions this build can run, by name. Each action lives in its own file in this folder and
// registers here with one line; the runbook loader reports a step whose action is missing from
// this map as "not available in this build", and the executor runs only what is listed.

import type { RunbookAction } from '../action.ts';
import type { ActionName } from '../runbook-schema.ts';

export const ACTIONS: ReadonlyMap<ActionName, RunbookAction<unknown>> = new Map<ActionName, RunbookAction<unknown>>([]);
