// The outbox table's delivery side: due items are claimed with a lease (so two replicas never
// send the same item at once, and a crashed sender's items come back), then marked delivered,
// rescheduled or dead. An item waits while an earlier item of the same incident and channel is
// still pending: per incident, people and PagerDuty see changes in the order they happened.

import type pg from 'pg';
import type { OutboxChannel } from './incident-records.ts';

export interface OutboxRow {
  id: string;
  incident_id: string;
  channel: OutboxChannel;
  payload: Record<string, unknown>;
  attempts: number;
  created_at: Date;
}

const CLAIM_DUE_ITEMS = `
UPDATE outbox SET claimed_until = $2, attempts = attempts + 1
WHERE id IN (
  SELECT o.id FROM outbox o
  WHERE o.status = 'pending' AND o.next_attempt_at <= $1 AND (o.claimed_until IS NULL OR o.claimed_until <= $1)
    AND NOT EXISTS (
      SELECT 1 FROM outbox earlier
      WHERE earlier.incident_id = o.incident_id AND earlier.channel = o.channel AND earlier.status = 'pending' AND earlier.id < o.id
    )
  ORDER BY o.id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
RETURNING id, incident_id, channel, payload, attempts, created_at`;

export async function claimDueItems(client: pg.ClientBase | pg.Pool, now: Date, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  const result = await client.query<OutboxRow>(CLAIM_DUE_ITEMS, [now, new Date(now.getTime() + leaseMs), limit]);
  return result.rows.map((row) => ({ ...row, id: String(row.id), incident_id: String(row.incident_id) })).sort((a, b) => Number(a.id) - Number(b.id));
}

// Each outcome also lands on the incident's timeline (what was sent where, or given up on), in
// the same statement.
const MARK_DELIVERED = `
WITH delivered AS (
  UPDATE outbox SET status = 'delivered', delivered_at = $2, claimed_until = NULL, last_error = NULL WHERE id = $1
  RETURNING incident_id, channel, payload->>'change' AS change, attempts
)
INSERT INTO incident_events (incident_id, at, type, source, detail)
SELECT incident_id, $2, 'notified', channel, jsonb_build_object('change', change, 'attempts', attempts) FROM delivered`;

export async function markDelivered(client: pg.ClientBase | pg.Pool, id: string, now: Date): Promise<void> {
  await client.query(MARK_DELIVERED, [id, now]);
}

export async function scheduleRetry(client: pg.ClientBase | pg.Pool, id: string, nextAttemptAt: Date, error: string): Promise<void> {
  await client.query('UPDATE outbox SET next_attempt_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $1', [id, nextAttemptAt, error]);
}

const MARK_DEAD = `
WITH dead AS (
  UPDATE outbox SET status = 'dead', claimed_until = NULL, last_error = $2 WHERE id = $1
  RETURNING incident_id, channel, payload->>'change' AS change, attempts
)
INSERT INTO incident_events (incident_id, at, type, source, detail)
SELECT incident_id, $3, 'notification_failed', channel, jsonb_build_object('change', change, 'attempts', attempts, 'error', $2::text) FROM dead`;

export async function markDead(client: pg.ClientBase | pg.Pool, id: string, error: string, now: Date): Promise<void> {
  await client.query(MARK_DEAD, [id, error, now]);
}

export interface OutboxBacklog {
  depth: number;
  oldestPendingAt: Date | null;
}

export async function selectOutboxBacklog(client: pg.ClientBase | pg.Pool): Promise<OutboxBacklog> {
  const result = await client.query<{ depth: number; oldest: Date | null }>("SELECT count(*)::int AS depth, min(created_at) AS oldest FROM outbox WHERE status = 'pending'");
  const row = result.rows[0];
  return { depth: row?.depth ?? 0, oldestPendingAt: row?.oldest ?? null };
}
