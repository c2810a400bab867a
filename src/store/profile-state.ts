// How far each table profile has measured (profile_state), so a profile tick measures only the
// buckets not measured yet plus the late-data window, and a table's first profile backfills.

import type pg from 'pg';

export interface ProfileKey {
  asset: string;
  timeColumn: string;
  bucketMs: number;
}

export interface ProfileProgress extends ProfileKey {
  /** Which measures the stored observations hold; a different key means start over. */
  measuresKey: string;
  /** Oldest bucket that held rows (zero-filling starts here); null while none did. */
  firstBucket: Date | null;
  /** End of the newest complete bucket measured. */
  measuredThrough: Date;
  firstProfiledAt: Date;
}

export interface ProfileStateRow {
  asset: string;
  time_column: string;
  bucket_ms: string;
  measures_key: string;
  first_bucket: Date | null;
  measured_through: Date;
  first_profiled_at: Date;
}

export function profileKeyString(key: ProfileKey): string {
  return JSON.stringify([key.asset, key.timeColumn, key.bucketMs]);
}

const SELECT_PROFILE_STATES = `
SELECT asset, time_column, bucket_ms, measures_key, first_bucket, measured_through, first_profiled_at
FROM profile_state
WHERE asset = ANY($1::text[])`;

/** The progress of every profile of these assets, by profileKeyString. */
export async function selectProfileStates(client: pg.ClientBase | pg.Pool, assets: readonly string[]): Promise<Map<string, ProfileProgress>> {
  const states = new Map<string, ProfileProgress>();
  if (assets.length === 0) return states;
  const result = await client.query<ProfileStateRow>(SELECT_PROFILE_STATES, [assets]);
  for (const row of result.rows) {
    const progress: ProfileProgress = {
      asset: row.asset,
      timeColumn: row.time_column,
      bucketMs: Number(row.bucket_ms),
      measuresKey: row.measures_key,
      firstBucket: row.first_bucket,
      measuredThrough: row.measured_through,
      firstProfiledAt: row.first_profiled_at,
    };
    states.set(profileKeyString(progress), progress);
  }
  return states;
}

// A changed measures key restarts the profile, so first_profiled_at moves with it.
const UPSERT_PROFILE_STATE = `
INSERT INTO profile_state AS p (asset, time_column, bucket_ms, measures_key, first_bucket,
  measured_through, first_profiled_at, last_profiled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
ON CONFLICT (asset, time_column, bucket_ms) DO UPDATE SET
  first_profiled_at = CASE WHEN p.measures_key = excluded.measures_key THEN p.first_profiled_at ELSE excluded.first_profiled_at END,
  measures_key = excluded.measures_key,
  first_bucket = excluded.first_bucket,
  measured_through = excluded.measured_through,
  last_profiled_at = excluded.last_profiled_at`;

export async function upsertProfileState(
  client: pg.ClientBase | pg.Pool,
  progress: Omit<ProfileProgress, 'firstProfiledAt'>,
  profiledAt: Date,
): Promise<void> {
  await client.query(UPSERT_PROFILE_STATE, [
    progress.asset,
    progress.timeColumn,
    progress.bucketMs,
    progress.measuresKey,
    progress.firstBucket,
    progress.measuredThrough,
    profiledAt,
  ]);
}
