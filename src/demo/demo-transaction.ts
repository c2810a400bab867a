// One transaction on a demo client, in UTC and under the demo lock. UTC because date_trunc,
// extract(hour/isodow) and ::date on timestamptz follow the session time zone, and the demo's
// weekly and daily pattern must not move with the server's settings.

import type pg from 'pg';
import { DEMO_LOCK_KEY } from './demo-schema.ts';

export type LockMode = 'wait' | 'try';

/**
 * Runs `work` inside BEGIN … COMMIT (ROLLBACK on error). With `lock: 'try'` it gives up at once
 * when another session holds the demo lock and resolves to undefined.
 */
export async function withDemoTransaction<T>(
  client: pg.ClientBase,
  lock: LockMode,
  work: () => Promise<T>,
): Promise<T | undefined> {
  await client.query('BEGIN');
  try {
    await client.query("SET LOCAL TimeZone = 'UTC'");
    if (!(await takeDemoLock(client, lock))) {
      await client.query('ROLLBACK');
      return undefined;
    }
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A failed ROLLBACK (connection gone) must not hide the error that caused it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function takeDemoLock(client: pg.ClientBase, lock: LockMode): Promise<boolean> {
  if (lock === 'wait') {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [DEMO_LOCK_KEY]);
    return true;
  }
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [DEMO_LOCK_KEY]);
  return result.rows[0]?.locked === true;
}
