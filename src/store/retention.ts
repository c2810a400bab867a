// Deletes what is older than the retention settings, in small batches: each batch is its own
// short statement, so retention never holds locks long enough to stall a sweep or a profile.

import type pg from 'pg';

/** Rows per delete; small enough to take milliseconds, large enough to keep up. */
export const RETENTION_BATCH = 5_000;

const DELETE_OLD_OBSERVATIONS = `
DELETE FROM observations o
USING (SELECT ctid FROM observations WHERE bucket < $1 LIMIT $2) doomed
WHERE o.ctid = doomed.ctid`;

export async function deleteObservationsBefore(client: pg.ClientBase | pg.Pool, cutoff: Date, limit: number): Promise<number> {
  const result = await client.query(DELETE_OLD_OBSERVATIONS, [cutoff, limit]);
  return result.rowCount ?? 0;
}

const DELETE_OLD_FINDINGS = `
DELETE FROM findings
WHERE id IN (SELECT id FROM findings WHERE evaluated_at < $1 ORDER BY id LIMIT $2)`;

export async function deleteFindingsBefore(client: pg.ClientBase | pg.Pool, cutoff: Date, limit: number): Promise<number> {
  const result = await client.query(DELETE_OLD_FINDINGS, [cutoff, limit]);
  return result.rowCount ?? 0;
}

export interface RetentionSettings {
  observationsMs: number;
  findingsMs: number;
  now: Date;
  batch?: number;
}

export interface RetentionResult {
  observations: number;
  findings: number;
}

/** Deletes batch after batch until a batch comes back short or the signal aborts. */
export async function applyRetention(pool: pg.Pool, settings: RetentionSettings, signal: AbortSignal): Promise<RetentionResult> {
  const batch = settings.batch ?? RETENTION_BATCH;
  const now = settings.now.getTime();
  const drain = async (remove: (cutoff: Date, limit: number) => Promise<number>, cutoff: Date): Promise<number> => {
    let total = 0;
    for (;;) {
      if (signal.aborted) return total;
      const deleted = await remove(cutoff, batch);
      total += deleted;
      if (deleted < batch) return total;
    }
  };
  const observations = await drain((cutoff, limit) => deleteObservationsBefore(pool, cutoff, limit), new Date(now - settings.observationsMs));
  const findings = await drain((cutoff, limit) => deleteFindingsBefore(pool, cutoff, limit), new Date(now - settings.findingsMs));
  return { observations, findings };
}
