// Writes one profile's measurements: the re-measured bucket range replaces what was stored for
// it (so a top value that dropped out, or a bucket emptied since, does not linger), and the
// profile's progress moves, all in one transaction so a crash leaves either both or neither.

import type pg from 'pg';
import type { Observation } from '../types.ts';
import { upsertProfileState, type ProfileProgress } from './profile-state.ts';
import { upsertObservations } from './sweep-records.ts';

/** What a profile measured: the asset's table-level metrics and its columns, over [from, to). */
export interface ProfiledRange {
  asset: string;
  from: Date;
  to: Date;
  /** Table-level metrics (column '') this profile owns, e.g. `rows`. */
  tableMetrics: readonly string[];
  columns: readonly string[];
}

// Metadata observations (row_estimate…, column '') share the table; only this profile's own
// metrics are cleared.
const DELETE_PROFILED_RANGE = `
DELETE FROM observations
WHERE asset = $1 AND bucket >= $2 AND bucket < $3
  AND ((column_name = '' AND metric = ANY($4::text[])) OR (column_name <> '' AND column_name = ANY($5::text[])))`;

export async function deleteProfiledRange(client: pg.ClientBase, range: ProfiledRange): Promise<void> {
  await client.query(DELETE_PROFILED_RANGE, [range.asset, range.from, range.to, range.tableMetrics, range.columns]);
}

export async function recordProfile(
  pool: pg.Pool,
  range: ProfiledRange,
  observations: readonly Observation[],
  progress: Omit<ProfileProgress, 'firstProfiledAt'>,
  profiledAt: Date,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await deleteProfiledRange(client, range);
    await upsertObservations(client, observations, profiledAt);
    await upsertProfileState(client, progress, profiledAt);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
