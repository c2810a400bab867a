// Reads what the detectors need back out of the state DB: a profile's observations over a range,
// and which buckets of a check must stay out of baselines (flagged, or marked expected).

import type pg from 'pg';

export interface ObservationRow {
  metric: string;
  column_name: string;
  bucket: Date;
  value: number;
}

export interface SeriesQuery {
  asset: string;
  from: Date;
  to: Date;
  tableMetrics: readonly string[];
  columns: readonly string[];
}

const SELECT_PROFILE_OBSERVATIONS = `
SELECT metric, column_name, bucket, value
FROM observations
WHERE asset = $1 AND bucket >= $2 AND bucket < $3
  AND ((column_name = '' AND metric = ANY($4::text[])) OR (column_name <> '' AND column_name = ANY($5::text[])))
ORDER BY bucket`;

/** Oldest first. */
export async function selectProfileObservations(client: pg.ClientBase | pg.Pool, query: SeriesQuery): Promise<ObservationRow[]> {
  const result = await client.query<ObservationRow>(SELECT_PROFILE_OBSERVATIONS, [query.asset, query.from, query.to, query.tableMetrics, query.columns]);
  return result.rows;
}

// A bucket is left out when the latest evaluation of that bucket warned or failed (re-scored
// after late data and found ok, it is back in), or when any finding about it was marked expected.
const SELECT_EXCLUDED_BUCKETS = `
SELECT check_id, bucket FROM (
  SELECT DISTINCT ON (check_id, bucket) check_id, bucket, status
  FROM findings
  WHERE check_id = ANY($1::text[]) AND bucket >= $2
  ORDER BY check_id, bucket, evaluated_at DESC, id DESC
) latest
WHERE status IN ('warn', 'fail')
UNION
SELECT f.check_id, f.bucket
FROM expected_marks m JOIN findings f ON f.id = m.finding_id
WHERE f.check_id = ANY($1::text[]) AND f.bucket >= $2`;

/** Per check id, the bucket start times (epoch ms) to leave out of its baseline. */
export async function selectExcludedBuckets(client: pg.ClientBase | pg.Pool, checkIds: readonly string[], from: Date): Promise<Map<string, Set<number>>> {
  const excluded = new Map<string, Set<number>>();
  if (checkIds.length === 0) return excluded;
  const result = await client.query<{ check_id: string; bucket: Date }>(SELECT_EXCLUDED_BUCKETS, [checkIds, from]);
  for (const row of result.rows) {
    let buckets = excluded.get(row.check_id);
    if (buckets === undefined) excluded.set(row.check_id, (buckets = new Set()));
    buckets.add(row.bucket.getTime());
  }
  return excluded;
}

// Metadata observations are stored only when they change, so the value in force at `from` is the
// last one before it: it is read too.
const SELECT_ASSET_METRIC = `
SELECT asset, bucket, value FROM (
  SELECT DISTINCT ON (asset) asset, bucket, value FROM observations
  WHERE asset = ANY($1::text[]) AND metric = $2 AND column_name = '' AND bucket < $3
  ORDER BY asset, bucket DESC
) AS carried_in
UNION ALL
SELECT asset, bucket, value FROM observations
WHERE asset = ANY($1::text[]) AND metric = $2 AND column_name = '' AND bucket >= $3
ORDER BY bucket`;

/** One table-level metric (e.g. the sweep's `row_estimate`) of several assets from the value in force at `from`, oldest first. */
export async function selectAssetMetric(
  client: pg.ClientBase | pg.Pool,
  assets: readonly string[],
  metric: string,
  from: Date,
): Promise<Map<string, Array<{ bucket: Date; value: number }>>> {
  const series = new Map<string, Array<{ bucket: Date; value: number }>>();
  if (assets.length === 0) return series;
  const result = await client.query<{ asset: string; bucket: Date; value: number }>(SELECT_ASSET_METRIC, [assets, metric, from]);
  for (const row of result.rows) {
    let points = series.get(row.asset);
    if (points === undefined) series.set(row.asset, (points = []));
    points.push({ bucket: row.bucket, value: row.value });
  }
  return series;
}
