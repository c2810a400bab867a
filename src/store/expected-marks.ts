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

const SELECT_EXPECTED_BUCKETS = `
SELECT DISTINCT f.check_id, f.bucket
FROM expected_marks m JOIN findings f ON f.id = m.finding_id
WHERE f.check_id = ANY($1::text[]) AND f.bucket >= $2`;

/** Per check id, the bucket start times (epoch ms) people marked expected; the backtest keeps only these out. */
export async function selectExpectedBuckets(client: pg.ClientBase | pg.Pool, checkIds: readonly string[], from: Date): Promise<Map<string, Set<number>>> {
  const expected = new Map<string, Set<number>>();
  if (checkIds.length === 0) return expected;
  const result = await client.query<{ check_id: string; bucket: Date }>(SELECT_EXPECTED_BUCKETS, [checkIds, from]);
  for (const row of result.rows) {
    let buckets = expected.get(row.check_id);
    if (buckets === undefined) expected.set(row.check_id, (buckets = new Set()));
    buckets.add(row.bucket.getTime());
  }
  return expected;
}
