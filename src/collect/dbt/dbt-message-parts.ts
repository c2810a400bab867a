// Pieces of the one-line messages dbt findings carry. dbt's own messages run over several lines
// (a database error, then the SQL); a page shows one line, so whitespace is folded and the text cut.

import { formatAge } from '../../detect/format-age.ts';

const MAX_DBT_TEXT = 300;

export function oneLine(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > MAX_DBT_TEXT ? `${folded.slice(0, MAX_DBT_TEXT - 1)}…` : folded;
}

/** `(run 2025-06-02T08:00:00Z, 2h 5m ago)`; the timestamp as written when it does not parse. */
export function runStamp(label: string, at: string, now: Date): string {
  const time = Date.parse(at);
  if (Number.isNaN(time)) return `(${label} ${at})`;
  const iso = new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `(${label} ${iso}, ${formatAge(now.getTime() - time)} ago)`;
}

/** The resource type of a unique_id when no manifest says it (`model.shop.orders` → model). */
export function resourceTypeOf(uniqueId: string): string {
  return uniqueId.slice(0, Math.max(0, uniqueId.indexOf('.'))) || uniqueId;
}
