// The newest finding of each check, read for people: `/pipewarden status` (assets matching a
// glob, with what their checks last said) and `/pipewarden expected` (the finding behind an
// incident, to take its bucket out of the baseline). The sweep stores a finding only when its
// status changes, so the newest row of a check is what it says now.

import type pg from 'pg';

type Queryable = pg.ClientBase | pg.Pool;

export interface LatestFindingRow {
  id: string;
  check_id: string;
  asset: string;
  status: 'ok' | 'warn' | 'fail' | 'error';
  message: string;
  bucket: Date | null;
  evaluated_at: Date;
}

/** A glob over asset keys (`*` any run, `?` one character) as a LIKE pattern, its own `%`, `_` and `\` escaped. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, (char) => `\\${char}`).replaceAll('*', '%').replaceAll('?', '_');
}

const SELECT_LATEST_FOR_ASSETS = `
SELECT DISTINCT ON (check_id) id, check_id, asset, status, message, bucket, evaluated_at
FROM findings
WHERE asset LIKE $1 ESCAPE '\\'
ORDER BY check_id, evaluated_at DESC, id DESC`;

export async function selectLatestFindingsForAssets(client: Queryable, glob: string): Promise<LatestFindingRow[]> {
  const result = await client.query<LatestFindingRow>(SELECT_LATEST_FOR_ASSETS, [globToLike(glob)]);
  return result.rows.map((row) => ({ ...row, id: String(row.id) }));
}

/** The newest non-ok finding of a check (for its bucket, when one is given): what an incident is about. */
export async function selectFindingBehindIncident(client: Queryable, checkId: string, bucket: string | undefined): Promise<LatestFindingRow | undefined> {
  const result = await client.query<LatestFindingRow>(
    `SELECT id, check_id, asset, status, message, bucket, evaluated_at FROM findings
     WHERE check_id = $1 AND status <> 'ok' AND ($2::timestamptz IS NULL OR bucket = $2::timestamptz)
     ORDER BY evaluated_at DESC, id DESC LIMIT 1`,
    [checkId, bucket ?? null],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { ...row, id: String(row.id) };
}
