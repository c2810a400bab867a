// `sql`: one SQL statement, in one transaction, on a warehouse's write connection.
//
// The statement text is a constant of the runbook. Whatever varies from run to run reaches it
// only two ways: values as parameters (`$1`, `$2`… from `params`), and names as identifiers
// (`{{name}}` from `identifiers`, each part quoted by the one quoting helper). A `${…}` inside
// the statement would splice a finding's or an asset's text into SQL, so the definition check
// rejects it. The statement is sent with the extended protocol, which also means it is exactly
// one statement: a `;` smuggled in cannot start a second one.
//
// The whole result is read into memory (only the first 100 rows are kept as outputs): this step
// is for fixes and small checks, not for exporting data.

import type pg from 'pg';
import { z } from 'zod';
import { RunbookError } from '../../errors.ts';
import { quoteIdentifier } from '../../warehouse/quote.ts';
import { StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';

export const MAX_OUTPUT_ROWS = 100;

const IDENTIFIER_PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

const identifierValue = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const sqlInput = z.strictObject({
  warehouse: z.string().min(1).optional().describe("Warehouse to write to. Default: the run's asset's warehouse."),
  statement: z.string().min(1).describe('One SQL statement; `$1`… for values from `params`, `{{name}}` for names from `identifiers`.'),
  params: z.array(z.unknown()).default([]).describe('Values bound to `$1`, `$2`…, in order.'),
  identifiers: z
    .record(z.string(), identifierValue)
    .default({})
    .describe('Names for `{{name}}`: a string, or a list of parts for a qualified name (`[schema, table]`).'),
  read_only: z.boolean().default(false).describe('Run in a read-only transaction: any write fails.'),
  expect_rows: z
    .strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
    .optional()
    .describe('Rows returned or affected must fall in this range, else the step fails and its changes are rolled back.'),
  idempotent: z.boolean().default(false).describe('Running it twice does no harm (always true with `read_only`).'),
});

export type SqlInput = z.output<typeof sqlInput>;

export const sqlAction: RunbookAction<SqlInput> = {
  name: 'sql',
  input: sqlInput,
  idempotent: (input) => input.read_only || input.idempotent,
  destructive: (input) => !input.read_only,
  checkDefinition: checkSqlDefinition,
  async run(input, context) {
    const warehouse = stepWarehouse(input.warehouse, context);
    const text = expandIdentifiers(input.statement, input.identifiers);
    const writer = context.warehouseWriter(warehouse);
    return writer.transaction(async (client) => {
      if (input.read_only) await setTransactionReadOnly(client);
      const result = await runStatement(client, text, input.params).catch((error: unknown) => {
        throw statementFailed(error, warehouse, context);
      });
      const outputs = resultOutputs(result);
      const problem = rowCountProblem(input.expect_rows, outputs.row_count);
      if (problem) throw new StepFailedError(`${problem}; the statement's changes were rolled back.`, outputs);
      return outputs;
    }, context.signal);
  },
};

function checkSqlDefinition(withValue: Record<string, unknown>): string[] {
  const statement = withValue.statement;
  if (typeof statement !== 'string') return [];
  const problems: string[] = [];
  if (statement.includes('${')) {
    problems.push(
      'statement: contains "${": values must not be spliced into SQL text; write $1, $2… and give the values in `params`, or {{name}} with the name in `identifiers`.',
    );
  }
  const identifiers = withValue.identifiers;
  // A whole-value placeholder (`identifiers: ${…}`) is only known at run time.
  if (identifiers !== undefined && (typeof identifiers !== 'object' || identifiers === null || Array.isArray(identifiers))) return problems;
  const given = new Set(Object.keys((identifiers as Record<string, unknown> | undefined) ?? {}));
  for (const name of placeholderNames(statement)) {
    if (!given.has(name)) problems.push(`statement: {{${name}}} has no entry in \`identifiers\`; add identifiers.${name}.`);
  }
  return problems;
}

function placeholderNames(statement: string): Set<string> {
  return new Set([...statement.matchAll(IDENTIFIER_PLACEHOLDER)].map((match) => match[1] as string));
}

/** Replaces each `{{name}}` with its quoted identifier, in one pass (a name's text is never expanded again). */
export function expandIdentifiers(statement: string, identifiers: Record<string, string | string[]>): string {
  return statement.replace(IDENTIFIER_PLACEHOLDER, (_match, name: string) => {
    const value = identifiers[name];
    if (value === undefined) throw new RunbookError('runbook_sql_identifier_missing', `statement: {{${name}}} has no entry in \`identifiers\`; add identifiers.${name}.`);
    return (Array.isArray(value) ? value : [value]).map(quoteIdentifier).join('.');
  });
}

/** The warehouse a write step targets: its own `warehouse`, else the run's asset's. */
export function stepWarehouse(given: string | undefined, context: ActionContext): string {
  const warehouse = given ?? context.asset.warehouse;
  if (warehouse === undefined) {
    throw new RunbookError(
      'runbook_no_warehouse',
      `Step "${context.step}" has no \`warehouse\` and the run's asset "${context.asset.key}" is not a warehouse table; add with.warehouse.`,
    );
  }
  return warehouse;
}

function rowCountProblem(expected: SqlInput['expect_rows'], rows: number): string | undefined {
  if (expected?.min !== undefined && rows < expected.min) return `The statement returned or changed ${rows} rows, fewer than expect_rows.min ${expected.min}`;
  if (expected?.max !== undefined && rows > expected.max) return `The statement returned or changed ${rows} rows, more than expect_rows.max ${expected.max}`;
  return undefined;
}

function statementFailed(error: unknown, warehouse: string, context: ActionContext): unknown {
  if (!isDatabaseError(error)) return error;
  return new StepFailedError(`The statement failed on warehouse "${warehouse}" in step "${context.step}": ${error.message} (SQLSTATE ${error.code}).`, { sqlstate: error.code }, { cause: error });
}

function isDatabaseError(error: unknown): error is Error & { code: string } {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function resultOutputs(result: pg.QueryResult): StepOutputs & { row_count: number } {
  return {
    row_count: result.rowCount ?? result.rows.length,
    rows: result.rows.slice(0, MAX_OUTPUT_ROWS).map((row) => jsonSafe(row)),
    command: result.command,
  };
}

/** Outputs are stored as JSON: bigints, dates, bytes and non-finite numbers become strings. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonSafe(inner)]));
  return value;
}

async function setTransactionReadOnly(client: pg.ClientBase): Promise<void> {
  await client.query('SET TRANSACTION READ ONLY');
}

async function runStatement(client: pg.ClientBase, text: string, params: unknown[]): Promise<pg.QueryResult> {
  // Extended protocol even without parameters: the server then accepts exactly one statement.
  return client.query({ text, values: params, queryMode: 'extended' } as pg.QueryConfig);
}
