// What Slack sends pipewarden, built the way Slack builds it, for the Slack app's tests: a slash
// command (form-encoded) and a button click (`payload=` block_actions JSON); and a failing
// freshness incident to act on.

import type pg from 'pg';
import type { Config } from '../../src/config/schema.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';

export interface SlackSender {
  userId: string;
  /** Where the app answers (a recording loopback server). */
  responseUrl: string;
}

export function slashCommandBody(text: string, sender: SlackSender, command = '/pipewarden'): string {
  return new URLSearchParams({ command, text, user_id: sender.userId, user_name: 'someone', team_id: 'T0TEAM', channel_id: 'C0INVENTORY', response_url: sender.responseUrl, trigger_id: 't' }).toString();
}

export function blockActionsBody(actionId: string, value: string, sender: SlackSender & { triggerId: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: sender.userId, username: 'someone', team_id: 'T0TEAM' },
    team: { id: 'T0TEAM', domain: 'acme' },
    api_app_id: 'A0APP',
    token: 'deprecated',
    trigger_id: sender.triggerId,
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0INVENTORY', is_ephemeral: false },
    channel: { id: 'C0INVENTORY', name: 'inventory-data' },
    message: { type: 'message', ts: '1700000000.000100', text: 'incident' },
    response_url: sender.responseUrl,
    actions: [{ action_id: actionId, block_id: 'pipewarden_actions', type: 'button', value, text: { type: 'plain_text', text: actionId }, action_ts: '1700000001.000000' }],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Opens (through the real lifecycle) a failing freshness incident on `asset`; resolves to its id. */
export async function openTestIncident(pool: pg.Pool, config: Config, asset: string): Promise<string> {
  await applyFindings(pool, config, [{ check: `freshness:${asset}`, kind: 'freshness', asset, status: 'fail', observed: 1, message: `${asset} is stale` }], new Date());
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM incidents WHERE asset = $1 AND status <> 'resolved'", [asset]);
  return String(rows[0]?.id);
}
