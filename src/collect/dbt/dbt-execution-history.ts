// dbt node execution times kept in pipewarden's observations (metric `dbt_execution_seconds`, one
// bucket per run), so a node's history survives restarts and every replica judges from the same.

import type pg from 'pg';

export const EXECUTION_METRIC = 'dbt_execution_seconds';

export interface ExecutionTimeRow {
  asset: string;
  bucket: Date;
  value: number;
}

const SELECT_RECENT_EXECUTION_TIMES = `
SELECT asset, bucket, value FROM (
  SELECT asset, bucket, value, row_number() OVER (PARTITION BY asset ORDER BY bucket DESC) AS position
  FROM observations
  WHERE asset = ANY($1::text[]) AND metric = $2 AND column_name = '' AND bucket <= $3
) AS ranked
WHERE position <= $4
ORDER BY asset, bucket DESC`;

/** Per asset, its `limit` newest execution times up to `until` (inclusive), newest first. */
export async function selectRecentExecutionTimes(
  client: pg.ClientBase | pg.Pool,
  assets: readonly string[],
  until: Date,
  limit: number,
): Promise<Map<string, ExecutionTimeRow[]>> {
  const byAsset = new Map<string, ExecutionTimeRow[]>();
  if (assets.length === 0) return byAsset;
  const result = await client.query<ExecutionTimeRow>(SELECT_RECENT_EXECUTION_TIMES, [assets, EXECUTION_METRIC, until, limit]);
  for (const row of result.rows) {
    let rows = byAsset.get(row.asset);
    if (rows === undefined) byAsset.set(row.asset, (rows = []));
    rows.push(row);
  }
  return byAsset;
}
