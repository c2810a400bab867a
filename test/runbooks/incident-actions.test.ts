// The actions that act on pipewarden itself — notify, silence, resolve, escalate, approve, and a
// backfill's progress — on a real incident in a real state database: what each leaves on the
// timeline, in the outbox (console and Slack) and in the silences table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { waitUntil } from '../helpers/wait-until.ts';
import { decideApproval } from '../../src/store/runbook-approvals.ts';
import type { Finding } from '../../src/types.ts';
import { openRunbookTestRuntime } from './runbook-test-runtime.ts';
import type { RunbookTestRuntime } from './runbook-test-runtime.ts';

const ASSET = 'wh.public.orders';
const FINDING: Finding = { check: `freshness:${ASSET}`, kind: 'freshness', asset: ASSET, status: 'fail', observed: 7200, message: `${ASSET}: newest loaded_at is 2h old` };

let rt: RunbookTestRuntime;

beforeAll(async () => {
  rt = await openRunbookTestRuntime({
    'tidy.yaml': `name: tidy
steps:
  - name: tell
    action: notify
    with: { text: "reloading \${asset.table} for \${finding.check}" }
  - name: hush
    action: silence
    with: { for: 30m, checks: ["volume:*"], reason: "reload in progress" }
  - name: close
    action: resolve
    with: { note: "reloaded by hand-written runbook" }
`,
    'shout.yaml': `name: shout
steps:
  - name: page
    action: escalate
    with: { reason: "the feed cannot be reloaded from here" }
  - name: after
    action: notify
    with: { text: "still here after paging" }
`,
    'ask.yaml': `name: ask
steps:
  - name: ask
    action: approve
    with: { message: "Reload orders?", timeout: 1m, poll: 50ms }
`,
    'fill.yaml': `name: fill
steps:
  - name: days
    action: backfill
    with:
      partitions: ["a", "b", "c", "d", "e", "f"]
      concurrency: 2
      step: { action: wait, with: { for: 20ms } }
`,
  }, {
    monitors: [{ assets: 'wh.public.*', owner: 'orders-team', freshness: { column: 'loaded_at', warn_after: '5m', error_after: '10m' } }],
    owners: { 'orders-team': { slack: '#orders' } },
    slack: { bot_token: 'xoxb-test-token' },
  });
}, 60_000);

afterAll(async () => {
  await rt?.close();
});

async function openIncident(): Promise<string> {
  const pool = rt.runtime.state.pool;
  await applyFindings(pool, rt.runtime.config, [FINDING], new Date());
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM incidents WHERE check_id = $1 AND status <> 'resolved'", [FINDING.check]);
  return String(rows[0]?.id);
}

async function timeline(incidentId: string): Promise<Array<{ type: string; actor: string | null; detail: Record<string, unknown> }>> {
  const { rows } = await rt.runtime.state.pool.query('SELECT type, actor, detail FROM incident_events WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return rows;
}

async function outboxTexts(incidentId: string, channel = 'console'): Promise<string[]> {
  const { rows } = await rt.runtime.state.pool.query<{ text: string }>('SELECT payload->>\'text\' AS text FROM outbox WHERE incident_id = $1 AND channel = $2 ORDER BY id', [incidentId, channel]);
  return rows.map((row) => row.text);
}

describe('runbook actions on an incident', () => {
  it('notify speaks on the incident, silence quiets the asset, resolve closes the incident as the runbook', async () => {
    const incidentId = await openIncident();
    const run = await rt.start('tidy', { incidentId, finding: FINDING });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'succeeded' });

    const events = await timeline(incidentId);
    expect(events.find((event) => event.type === 'runbook_note')).toMatchObject({
      actor: `runbook:tidy#${run.id}`,
      detail: { text: `reloading orders for freshness:${ASSET}`, run: run.id },
    });
    expect(events.map((event) => event.type)).toContain('resolved');
    expect(await outboxTexts(incidentId)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^RUNBOOK tidy \\(run #${run.id}\\) on incident #${incidentId} freshness: reloading orders`))]),
    );

    const { rows: silences } = await rt.runtime.state.pool.query('SELECT asset_globs, check_globs, reason, created_by, ends_at - starts_at AS span FROM silences');
    expect(silences).toEqual([expect.objectContaining({ asset_globs: [ASSET], check_globs: ['volume:*'], reason: 'reload in progress', created_by: `runbook:tidy#${run.id}` })]);
    expect((silences[0] as { span: { minutes: number } }).span.minutes).toBe(30);

    const { rows: incident } = await rt.runtime.state.pool.query('SELECT status, resolved_by FROM incidents WHERE id = $1', [incidentId]);
    expect(incident[0]).toEqual({ status: 'resolved', resolved_by: `runbook:tidy#${run.id}` });
  });

  it('escalate pages at once with the run so far, once, and the run goes on to its end', async () => {
    const incidentId = await openIncident();
    const run = await rt.start('shout', { incidentId, finding: FINDING });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'escalated' });
    const events = await timeline(incidentId);
    expect(events.filter((event) => event.type === 'runbook_escalated')).toHaveLength(1);
    expect(events.find((event) => event.type === 'runbook_escalated')?.detail).toMatchObject({ reason: 'the feed cannot be reloaded from here' });
    const texts = await outboxTexts(incidentId);
    expect(texts.filter((text) => text.startsWith('RECOVERY FAILED'))).toHaveLength(1);
    expect(texts.some((text) => text.includes('still here after paging'))).toBe(true);
    const { rows } = await rt.runtime.state.pool.query("SELECT payload->'runbook_attempts' AS attempts FROM outbox WHERE incident_id = $1 AND payload->>'change' = 'recovery_failed'", [incidentId]);
    expect(rows[0]?.attempts).toEqual([expect.objectContaining({ step: 'page', action: 'escalate', status: 'succeeded' })]);
  });

  it('approve tells the incident who decided, so the chat message can drop its buttons and the thread says it', async () => {
    const incidentId = await openIncident();
    const run = await rt.start('ask', { incidentId, finding: FINDING });
    const ended = rt.execute(run.id);
    await waitUntil(async () => ((await timeline(incidentId)).some((event) => event.detail.approval === 'requested') ? true : undefined), 10_000, 'the approval is asked');
    await decideApproval(rt.runtime.state.pool, { runId: run.id, step: 'ask', decision: 'approved', by: 'U0APPROVER', now: new Date() });
    expect(await ended).toMatchObject({ status: 'succeeded' });
    const notes = (await timeline(incidentId)).filter((event) => event.type === 'runbook_note' && event.detail.run === run.id).map((event) => event.detail);
    expect(notes).toEqual([expect.objectContaining({ approval: 'requested' }), expect.objectContaining({ approval: 'approved', by: 'U0APPROVER', text: 'step ask approved by U0APPROVER' })]);
    expect(await outboxTexts(incidentId, 'slack')).toContain(`RUNBOOK ask (run #${run.id}) on incident #${incidentId} freshness: step ask approved by U0APPROVER`);
  });

  it('a backfill\'s progress reaches the incident\'s Slack message, throttled, and nothing else: no console line, no timeline entry', async () => {
    const incidentId = await openIncident();
    const run = await rt.start('fill', { incidentId, finding: FINDING });
    expect(await rt.execute(run.id)).toMatchObject({ status: 'succeeded' });
    const { rows } = await rt.runtime.state.pool.query<{ channel: string; progress: { done: number; total: number; message: string } }>(
      "SELECT channel, payload->'step_progress' AS progress FROM outbox WHERE incident_id = $1 AND payload->>'change' = 'runbook_progress' ORDER BY id",
      [incidentId],
    );
    // Six partitions in well under PROGRESS_INTERVAL_MS: the first report and the last, not all seven.
    expect(rows).toEqual([
      { channel: 'slack', progress: { step: 'days', done: 0, total: 6, message: 'backfill 0/6 partitions' } },
      { channel: 'slack', progress: { step: 'days', done: 6, total: 6, message: 'backfill 6/6 partitions' } },
    ]);
    expect((await timeline(incidentId)).some((event) => JSON.stringify(event.detail).includes('partitions'))).toBe(false);
  });
});
