// Time-limited claims in the `leases` table: which replica runs a scheduled tick, which worker
// holds a piece of work. A lease is free once expires_at has passed, so a crashed holder blocks
// the others for at most one TTL. Time comes in as an argument (the caller's clock), which keeps
// these testable and lets every replica decide with the same rule.

import type pg from 'pg';

export type Queryable = pg.ClientBase | pg.Pool;

export interface LeaseRow {
  name: string;
  holder: string;
  acquired_at: Date;
  expires_at: Date;
}

const TRY_ACQUIRE = `
insert into leases (name, holder, acquired_at, expires_at)
values ($1, $2, $3, $3::timestamptz + $4 * interval '1 millisecond')
on conflict (name) do update
  set holder = excluded.holder,
      acquired_at = case when leases.holder = excluded.holder then leases.acquired_at else excluded.acquired_at end,
      expires_at = excluded.expires_at
  where leases.expires_at <= excluded.acquired_at or leases.holder = excluded.holder
returning name`;

/**
 * Takes the lease when it is free or expired, or extends it when `holder` already has it.
 * Resolves to whether `holder` holds it now. Concurrent callers are safe: the upsert lets one win.
 */
export async function tryAcquireLease(client: Queryable, name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
  const result = await client.query(TRY_ACQUIRE, [name, holder, now, ttlMs]);
  return result.rowCount === 1;
}

/** Extends a lease `holder` still holds; false when it expired or someone else took it. */
export async function renewLease(client: Queryable, name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
  const result = await client.query(
    `update leases set expires_at = $3::timestamptz + $4 * interval '1 millisecond'
     where name = $1 and holder = $2 and expires_at > $3`,
    [name, holder, now, ttlMs],
  );
  return result.rowCount === 1;
}

/** Gives the lease up early; false when `holder` did not hold it. */
export async function releaseLease(client: Queryable, name: string, holder: string): Promise<boolean> {
  const result = await client.query('delete from leases where name = $1 and holder = $2', [name, holder]);
  return result.rowCount === 1;
}

export async function selectLease(client: Queryable, name: string): Promise<LeaseRow | undefined> {
  const result = await client.query<LeaseRow>('select name, holder, acquired_at, expires_at from leases where name = $1', [name]);
  return result.rows[0];
}

/** Removes leases under `prefix` that expired before `before`; resolves to how many. */
export async function deleteExpiredLeases(client: Queryable, prefix: string, before: Date): Promise<number> {
  const result = await client.query(`delete from leases where starts_with(name, $1) and expires_at < $2`, [prefix, before]);
  return result.rowCount ?? 0;
}
