// The slack_messages table (migrations/0006_slack_messages.sql): which Slack message is an
// incident's, so every change after the first edits it instead of posting another.

import type pg from 'pg';

export interface SlackMessageRow {
  incident_id: string;
  channel: string;
  ts: string;
  runbook: Record<string, unknown> | null;
  replied_outbox_id: string | null;
}

type Queryable = pg.ClientBase | pg.Pool;

export async function selectSlackMessage(client: Queryable, incidentId: string): Promise<SlackMessageRow | undefined> {
  const result = await client.query<SlackMessageRow>('SELECT incident_id::text, channel, ts, runbook, replied_outbox_id::text FROM slack_messages WHERE incident_id = $1', [incidentId]);
  return result.rows[0];
}

/**
 * Remembers the incident's message. If another sender stored one first (two replicas raced past
 * the lookup), theirs stays and is returned, so later edits all go to one message.
 */
export async function insertSlackMessage(client: Queryable, row: { incidentId: string; channel: string; ts: string; runbook: Record<string, unknown> | null; outboxId: string }, now: Date): Promise<SlackMessageRow> {
  const result = await client.query<SlackMessageRow>(
    `INSERT INTO slack_messages (incident_id, channel, ts, runbook, replied_outbox_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (incident_id) DO NOTHING
     RETURNING incident_id::text, channel, ts, runbook, replied_outbox_id::text`,
    [row.incidentId, row.channel, row.ts, row.runbook, row.outboxId, now],
  );
  return result.rows[0] ?? (await selectSlackMessage(client, row.incidentId)) as SlackMessageRow;
}

export async function updateSlackMessageRunbook(client: Queryable, incidentId: string, runbook: Record<string, unknown>, now: Date): Promise<void> {
  await client.query('UPDATE slack_messages SET runbook = $2, updated_at = $3 WHERE incident_id = $1', [incidentId, runbook, now]);
}

export async function markSlackReplyPosted(client: Queryable, incidentId: string, outboxId: string, now: Date): Promise<void> {
  await client.query('UPDATE slack_messages SET replied_outbox_id = GREATEST(coalesce(replied_outbox_id, 0), $2::bigint), updated_at = $3 WHERE incident_id = $1', [incidentId, outboxId, now]);
}

