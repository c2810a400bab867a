// The silences table: created by people (CLI, Slack later), read by every incident batch.

import type pg from 'pg';
import type { Silence } from '../incidents/silences.ts';

interface SilenceRow {
  id: string;
  asset_globs: string[];
  check_globs: string[];
  starts_at: Date;
  ends_at: Date;
  reason: string;
  created_by: string;
}

const SELECT_ACTIVE_SILENCES = `
SELECT id, asset_globs, check_globs, starts_at, ends_at, reason, created_by FROM silences
WHERE cancelled_at IS NULL AND starts_at <= $1 AND ends_at > $1
ORDER BY id`;

export async function selectActiveSilences(client: pg.ClientBase | pg.Pool, now: Date): Promise<Silence[]> {
  const result = await client.query<SilenceRow>(SELECT_ACTIVE_SILENCES, [now]);
  return result.rows.map(silenceFromRow);
}

export interface NewSilence {
  assetGlobs: readonly string[];
  checkGlobs: readonly string[];
  startsAt: Date;
  endsAt: Date;
  reason: string;
  createdBy: string;
}

const INSERT_SILENCE = `
INSERT INTO silences (asset_globs, check_globs, starts_at, ends_at, reason, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, asset_globs, check_globs, starts_at, ends_at, reason, created_by`;

export async function insertSilence(client: pg.ClientBase | pg.Pool, silence: NewSilence, now: Date): Promise<Silence> {
  const result = await client.query<SilenceRow>(INSERT_SILENCE, [
    silence.assetGlobs,
    silence.checkGlobs,
    silence.startsAt,
    silence.endsAt,
    silence.reason,
    silence.createdBy,
    now,
  ]);
  return silenceFromRow(result.rows[0] as SilenceRow);
}

export async function cancelSilence(client: pg.ClientBase | pg.Pool, id: string, now: Date): Promise<boolean> {
  if (!/^\d+$/.test(id)) return false;
  const result = await client.query('UPDATE silences SET cancelled_at = $2 WHERE id = $1 AND cancelled_at IS NULL', [id, now]);
  return (result.rowCount ?? 0) > 0;
}

function silenceFromRow(row: SilenceRow): Silence {
  return {
    id: String(row.id),
    assetGlobs: row.asset_globs,
    checkGlobs: row.check_globs,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    reason: row.reason,
    createdBy: row.created_by,
  };
}

const SELECT_SILENCES = `
SELECT id, asset_globs, check_globs, starts_at, ends_at, reason, created_by FROM silences
WHERE $2::boolean OR (cancelled_at IS NULL AND ends_at > $1)
ORDER BY id DESC
LIMIT 200`;

/** Silences in force or still to come (or every one with `all`), newest first. */
export async function selectSilences(client: pg.ClientBase | pg.Pool, now: Date, all: boolean): Promise<Silence[]> {
  const result = await client.query<SilenceRow>(SELECT_SILENCES, [now, all]);
  return result.rows.map(silenceFromRow);
}
