// Zod building blocks every config section shares. Apart from schema.ts so the sections that
// live beside their code (src/collect/airflow, sqlmesh, dbt) can use them and schema.ts can still
// import those sections without a cycle.

import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A duration written like "90s", "15m", "1h30m", "7d"; parsed to milliseconds. */
export const duration = z
  .string({ error: 'expected a duration like "1h"' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "1h", got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

/** One glob or a list of them; always a list after parsing. */
export const globList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** A name for logs, errors and keys: letters, digits, `_` and `-`. */
export const identifierName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a name of letters, digits, "_" or "-"');

/** Names within a list must differ: `what` names the list's items in the message. */
export function uniqueNames<T extends { name: string }>(what: string) {
  return (items: readonly T[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `another ${what} is already named "${item.name}": give each a name of its own` });
      seen.add(item.name);
    });
  };
}
