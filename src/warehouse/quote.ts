// The one identifier-quoting helper. Values always travel as statement parameters; identifiers
// cannot, so every schema, table and column name spliced into SQL goes through here.

import { PipewardenError } from '../errors.ts';
import type { TableRef } from './warehouse.ts';

/**
 * Quotes an identifier the SQL-standard way (Postgres, Snowflake, DuckDB): wrap in double quotes
 * and double any embedded double quote. Quoting also preserves case, so names are used exactly as
 * the catalog returned them.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0) {
    throw new PipewardenError('identifier_invalid', 'Cannot quote an empty identifier: a schema, table or column name is missing; check the config.');
  }
  // A NUL byte would truncate the statement in the server's C code; no engine allows it in a name.
  if (name.includes('\0')) {
    throw new PipewardenError(
      'identifier_invalid',
      `Cannot quote identifier ${JSON.stringify(name)}: it contains a NUL byte, which no warehouse allows in a name; check the config for a stray control character.`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`, each part quoted on its own so a dot inside a name stays part of it. */
export function qualifiedName(ref: TableRef): string {
  return `${quoteIdentifier(ref.schema)}.${quoteIdentifier(ref.name)}`;
}
