// When assets were seen changing, for learned freshness cadences. Two sources, both already in
// observations: the newest timestamp-column value each sweep recorded (`max_timestamp`, epoch ms;
// each distinct value is an update), and cumulative write counters (`writes_total`; a sweep
// where the counter grew saw an update). One statement for all assets of a sweep.

import type pg from 'pg';

const SELECT_UPDATE_TIMES = `
SELECT asset, to_timestamp(value / 1000.0) AS updated_at
FROM observations
WHERE asset = ANY($1::text[]) AND metric = 'max_timestamp' AND bucket >= $2
GROUP BY asset, value
UNION ALL
SELECT asset, bucket AS updated_at
FROM (
  SELECT asset, bucket, value, lag(value) OVER (PARTITION BY asset ORDER BY bucket) AS previous
  FROM observations
  WHERE asset = ANY($1::text[]) AND metric = 'writes_total' AND bucket >= $2
) AS counters
WHERE value > previous`;

export async function selectUpdateTimes(
  client: pg.ClientBase | pg.Pool,
  assets: readonly string[],
  since: Date,
): Promise<Map<string, Date[]>> {
  const times = new Map<string, Date[]>();
  if (assets.length === 0) return times;
  const result = await client.query<{ asset: string; updated_at: Date }>(SELECT_UPDATE_TIMES, [assets, since]);
  for (const row of result.rows) {
    const list = times.get(row.asset) ?? [];
    list.push(row.updated_at);
    times.set(row.asset, list);
  }
  return times;
}
