// Queues a run of a runbook: checks and converts its parameters (command-line values arrive as
// text), fixes its deadline, and records it with its own copy of the runbook's text. The
// executor picks it up from there; whoever queued it only waits if it wants to.

import { parseDuration } from '../config/duration.ts';
import { RunbookError } from '../errors.ts';
import type { RunRow } from '../store/runbook-runs.ts';
import { insertRun } from '../store/runbook-runs.ts';
import type { Queryable } from '../store/leases.ts';
import type { Finding } from '../types.ts';
import type { LoadedRunbook } from './loaded-runbook.ts';
import type { ParamDefinition } from './runbook-schema.ts';

export interface RunRequest {
  asset: string;
  /** Given parameters; strings are converted to the declared type. */
  params?: Record<string, unknown>;
  finding?: Finding;
  incidentId?: string;
  /** `incident #12`, `cli:alice`, `slack:U0123`. */
  startedBy: string;
  now: Date;
  /** Earlier than the runbook's own `timeout` allows, e.g. the incident's paging deadline. */
  deadlineAt?: Date;
}

function convertParam(name: string, definition: ParamDefinition, value: unknown): unknown {
  const fail = (expected: string): never => {
    throw new RunbookError('runbook_param_invalid', `parameter "${name}" must be ${expected}, got ${JSON.stringify(value)}`);
  };
  switch (definition.type) {
    case 'string':
      return typeof value === 'string' ? value : fail('a string');
    case 'int': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof number === 'number' && Number.isInteger(number) ? number : fail('a whole number');
    }
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof number === 'number' && Number.isFinite(number) ? number : fail('a number');
    }
    case 'bool':
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      return fail('true or false');
    case 'duration':
      return typeof value === 'string' && parseDuration(value) !== undefined ? value : fail('a duration like "1h"');
  }
}

/** The run's parameters: given ones converted, defaults filled in, unknown and missing ones refused. */
export function resolveParams(runbook: LoadedRunbook, given: Record<string, unknown> = {}): Record<string, unknown> {
  const declared = runbook.definition.params;
  const unknown = Object.keys(given).filter((name) => !(name in declared));
  if (unknown.length > 0) {
    const known = Object.keys(declared);
    throw new RunbookError('runbook_param_unknown', `runbook ${runbook.definition.name} has no parameter ${unknown.map((name) => `"${name}"`).join(', ')}; it takes ${known.length > 0 ? known.join(', ') : 'none'}`);
  }
  const params: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(declared)) {
    const value = given[name] ?? definition.default;
    if (value === undefined) throw new RunbookError('runbook_param_missing', `runbook ${runbook.definition.name} needs parameter "${name}" (${definition.type}); pass --param ${name}=VALUE`);
    params[name] = convertParam(name, definition, value);
  }
  return params;
}

export async function startRun(client: Queryable, runbook: LoadedRunbook, request: RunRequest): Promise<RunRow> {
  return insertRun(client, {
    runbook: runbook.definition.name,
    file: runbook.file,
    source: runbook.source,
    digest: runbook.digest,
    asset: request.asset,
    incidentId: request.incidentId,
    finding: request.finding,
    params: resolveParams(runbook, request.params),
    startedBy: request.startedBy,
    deadlineAt: request.deadlineAt ?? new Date(request.now.getTime() + runbook.definition.timeout),
    now: request.now,
  });
}
