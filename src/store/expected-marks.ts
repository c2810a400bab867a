// People's "expected" marks on findings (expected_marks): the marked finding's bucket leaves the
// baseline of its check. One statement per function; marking twice keeps the latest mark.

import type pg from 'pg';

export interface MarkedFindingRow {
  id: string;
  check_id: string;
  kind: string;
  bucket: Date | null;
}

const SELECT_FINDING = `SELECT id, check_id, kind, bucket FROM findings WHERE id = $1`;

export async function selectFindingForMark(client: pg.ClientBase | pg.Pool, findingId: number): Promise<MarkedFindingRow | undefined> {
  const result = await client.query<MarkedFindingRow>(SELECT_FINDING, [findingId]);
  return result.rows[0];
}

const UPSERT_EXPECTED_MARK = `
INSERT INTO expected_marks (finding_id, marked_by, marked_at)
VALUES ($1, $2, $3)
ON CONFLICT (finding_id) DO UPDATE SET marked_by = excluded.marked_by, marked_at = excluded.marked_at`;

export async function upsertExpectedMark(client: pg.ClientBase | pg.Pool, findingId: number, by: string, at: Date): Promise<void> {
  await client.query(UPSERT_EXPECTED_MARK, [findingId, by, at]);
}
