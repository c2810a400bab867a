// Webhook deliveries already applied, by the sender's event id: senders retry, and an attacker
// may replay a captured request; either way an event changes things once.

import type pg from 'pg';

/** True the first time this event id is seen; false for a repeat. Run inside the transaction that applies it. */
export async function recordWebhookEvent(client: pg.ClientBase, source: string, eventId: string, now: Date): Promise<boolean> {
  const result = await client.query('INSERT INTO webhook_events (source, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [source, eventId, now]);
  return (result.rowCount ?? 0) > 0;
}
