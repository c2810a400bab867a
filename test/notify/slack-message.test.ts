// The incident message's Block Kit, on its own: what it says, its buttons, escaping of anything
// that comes from data, runbook progress, and Slack's length limits.

import { describe, expect, it } from 'vitest';
import { buildIncidentMessage, buildThreadReply, escapeMrkdwn, SLACK_ACTIONS, stepProgressLine, type SlackIncidentView } from '../../src/notify/slack-message.ts';

function incident(overrides: Partial<SlackIncidentView> = {}): SlackIncidentView {
  return {
    id: '42',
    check: 'freshness:shop.raw.inventory',
    kind: 'freshness',
    asset: 'shop.raw.inventory',
    severity: 'critical',
    status: 'open',
    owner: 'inventory',
    finding: { check: 'freshness:shop.raw.inventory', kind: 'freshness', asset: 'shop.raw.inventory', status: 'fail', observed: 3600, expected: { low: null, high: 600 }, message: 'shop.raw.inventory: newest loaded_at is 1h old' },
    ...overrides,
  };
}

const texts = (blocks: Record<string, unknown>[]): string[] => JSON.stringify(blocks).match(/"text":"(?:[^"\\]|\\.)*"/g) ?? [];

describe('incident message', () => {
  it('says what broke in one line, then state, severity, owner, observed and expected', () => {
    const message = buildIncidentMessage(incident());
    expect(message.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: ':red_circle: *#42 freshness shop.raw.inventory*: shop.raw.inventory: newest loaded_at is 1h old' } });
    expect(message.blocks[1]).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*State*\nopen' },
        { type: 'mrkdwn', text: '*Severity*\ncritical' },
        { type: 'mrkdwn', text: '*Owner*\ninventory' },
        { type: 'mrkdwn', text: '*Check*\n`freshness:shop.raw.inventory`' },
        { type: 'mrkdwn', text: '*Observed*\n3600' },
        { type: 'mrkdwn', text: '*Expected*\n≤ 600' },
      ],
    });
    expect(message.text).toBe('[open] #42 freshness shop.raw.inventory: shop.raw.inventory: newest loaded_at is 1h old');
  });

  it('has the five buttons with stable action ids and the incident id as value', () => {
    const actions = buildIncidentMessage(incident()).blocks.find((block) => block.type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> };
    expect(actions.elements.map((button) => [button.text.text, button.action_id, button.value])).toEqual([
      ['Acknowledge', 'pipewarden_acknowledge', '42'],
      ['Resolve', 'pipewarden_resolve', '42'],
      ['Silence 1h', 'pipewarden_silence_1h', '42'],
      ['Run runbook', 'pipewarden_run_runbook', '42'],
      ['Mark expected', 'pipewarden_mark_expected', '42'],
    ]);
    expect(Object.values(SLACK_ACTIONS)).toHaveLength(7); // the five, and Approve / Reject for runbook approvals
  });

  it('shows who acknowledged, drops the Acknowledge button once acknowledged and all buttons once resolved', () => {
    const acked = buildIncidentMessage(incident({ status: 'acknowledged', acknowledgedBy: 'slack:U123' }));
    expect(JSON.stringify(acked.blocks)).toContain('*State*\\nacknowledged by slack:U123');
    const ids = (acked.blocks.find((block) => block.type === 'actions') as { elements: Array<{ action_id: string }> }).elements.map((button) => button.action_id);
    expect(ids).not.toContain(SLACK_ACTIONS.acknowledge);
    const resolved = buildIncidentMessage(incident({ status: 'resolved', resolvedBy: 'cli:alice' }));
    expect(resolved.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(resolved.blocks)).toContain('resolved by cli:alice');
  });

  it('escapes &, < and > in everything from data, so a table named <!channel> pings nobody', () => {
    const evil = incident({
      asset: 'shop.raw.<!channel>',
      owner: '<@U999>',
      acknowledgedBy: 'a&b',
      status: 'acknowledged',
      finding: { check: 'x', kind: 'volume', asset: 'shop.raw.<!channel>', status: 'fail', observed: 1, message: 'rows <https://evil.example|click> & <!here>' },
      runbook: { change: 'runbook_note', text: 'note <!everyone>', attempts: [{ step: '<!subteam^S1>', status: 'failed' }] },
    });
    const message = buildIncidentMessage(evil);
    const all = [message.text, ...texts(message.blocks)].join('\n');
    expect(all).not.toMatch(/<[!@#]|<https/);
    expect(all).toContain('shop.raw.&lt;!channel&gt;');
    expect(all).toContain('rows &lt;https://evil.example|click&gt; &amp; &lt;!here&gt;');
    expect(all).toContain('&lt;@U999&gt;');
    expect(all).toContain('a&amp;b');
    expect(all).toContain('note &lt;!everyone&gt;');
    expect(all).toContain('&lt;!subteam^S1&gt;');
    expect(buildThreadReply('OPENED <!channel> & more').text).toBe('OPENED &lt;!channel&gt; &amp; more');
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('shows runbook progress: running, failed with what it tried, recovered', () => {
    const failed = buildIncidentMessage(incident({
      runbook: {
        change: 'recovery_failed',
        text: 'RECOVERY FAILED incident #42 freshness: runbook reload (run #3) verify did not pass',
        attempts: [{ step: 'rerun-loader', action: 'command', status: 'succeeded' }, { step: 'verify', action: 'verify', status: 'failed', error: 'still stale' }],
      },
    }));
    const section = failed.blocks[2] as { text: { text: string } };
    expect(section.text.text).toBe(':x: *Runbook failed*: RECOVERY FAILED incident #42 freshness: runbook reload (run #3) verify did not pass\n• rerun-loader (command): succeeded\n• verify (verify): failed — still stale');
    const running = buildIncidentMessage(incident({ runbook: { change: 'recovery_started', text: 'RECOVERING incident #42 freshness: running runbook reload (run #3)' } }));
    expect((running.blocks[2] as { text: { text: string } }).text.text).toBe(':gear: *Runbook running*: RECOVERING incident #42 freshness: running runbook reload (run #3)');
    const recovered = buildIncidentMessage(incident({ runbook: { change: 'recovered', text: 'RECOVERED' } }));
    expect(JSON.stringify(recovered.blocks)).toContain('Recovered by runbook');
    expect(buildIncidentMessage(incident()).blocks.some((block) => JSON.stringify(block).includes('Runbook'))).toBe(false);
  });

  it('offers Approve and Reject while a runbook step waits for a decision, naming the run and the step', () => {
    const asking = buildIncidentMessage(incident({ runbook: { change: 'runbook_note', text: 'Roll back top_items?', approval: { run: '7', step: 'ask' } } }));
    const approval = asking.blocks.find((block) => block.block_id === 'pipewarden_approval_7') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> };
    expect(approval.elements.map((button) => [button.text.text, button.action_id, button.value])).toEqual([
      ['Approve', SLACK_ACTIONS.approve, '7:ask'],
      ['Reject', SLACK_ACTIONS.reject, '7:ask'],
    ]);
    // Once the run moved on (a later change replaces the progress), or the incident resolved, the buttons go.
    const after = buildIncidentMessage(incident({ runbook: { change: 'recovered', text: 'RECOVERED', approval: { run: '7', step: 'ask' } } }));
    expect(after.blocks.some((block) => block.block_id === 'pipewarden_approval_7')).toBe(false);
    const resolved = buildIncidentMessage(incident({ status: 'resolved', runbook: { change: 'runbook_note', text: 'Roll back?', approval: { run: '7', step: 'ask' } } }));
    expect(resolved.blocks.some((block) => block.block_id === 'pipewarden_approval_7')).toBe(false);
  });

  it('links to Grafana only when notifications.grafana_url is set', () => {
    const linked = buildIncidentMessage(incident(), { grafanaUrl: 'https://grafana.example.com/d/pipewarden' });
    expect(linked.blocks).toContainEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: '<https://grafana.example.com/d/pipewarden|Open in Grafana>' }] });
    expect(JSON.stringify(buildIncidentMessage(incident()).blocks)).not.toContain('Grafana');
  });

  it('keeps within Slack\'s limits, cutting with an ellipsis and never inside an escape', () => {
    const long = buildIncidentMessage(incident({ finding: { ...incident().finding, message: `${'x'.repeat(2990)}&&&&&&&&&&` }, runbook: { change: 'recovery_failed', text: 'failed', attempts: Array.from({ length: 40 }, (_, n) => ({ step: `s${n}`, status: 'failed', error: 'e'.repeat(200) })) } }));
    const headline = (long.blocks[0] as { text: { text: string } }).text.text;
    expect(headline.length).toBeLessThanOrEqual(3000);
    expect(headline.endsWith('…')).toBe(true);
    expect(headline).toMatch(/(x|&amp;)…$/);
    const runbook = (long.blocks[2] as { text: { text: string } }).text.text;
    expect(runbook).toContain('… and 35 more');
    expect(runbook.length).toBeLessThanOrEqual(3000);
    expect(long.text.length).toBeLessThanOrEqual(300);
    for (const block of long.blocks) for (const text of texts([block])) expect(text.length).toBeLessThanOrEqual(3000 + 10);
    expect(buildThreadReply('y'.repeat(5000)).text).toHaveLength(3000);
  });

  it('draws a step\'s progress as a ten-cell bar, clamped, escaping the step and its message', () => {
    expect(stepProgressLine({ step: 'days', done: 0, total: 30, message: 'backfill 0/30' })).toBe('▱▱▱▱▱▱▱▱▱▱ 0% · `days`: backfill 0/30');
    expect(stepProgressLine({ step: 'days', done: 29, total: 30, message: 'almost' })).toBe('▰▰▰▰▰▰▰▰▰▱ 96% · `days`: almost');
    expect(stepProgressLine({ step: 'days', done: 0, total: 0, message: 'nothing to do' })).toMatch(/^▰{10} 100%/);
    expect(stepProgressLine({ step: 'days', done: 40, total: 30, message: 'x' })).toMatch(/^▰{10} 100%/);
    expect(stepProgressLine({ step: '<!channel>', done: 1, total: 2, message: 'a & <b>' })).toBe('▰▰▰▰▰▱▱▱▱▱ 50% · `&lt;!channel&gt;`: a &amp; &lt;b&gt;');
  });

  it('says where the failure comes from and what it reaches: the cause upstream, the blast radius downstream', () => {
    const grouped = buildIncidentMessage(incident({ causedBy: '7', blastRadius: null }));
    expect(JSON.stringify(grouped.blocks)).toContain(':arrow_up: *Caused upstream* by incident #7: it pages as part of that one');
    const root = buildIncidentMessage(incident({ blastRadius: "1 exposure: <!channel> & co (dashboard, owner: am)" }));
    expect(JSON.stringify(root.blocks)).toContain(':boom: *Blast radius*: 1 exposure: &lt;!channel&gt; &amp; co (dashboard, owner: am)');
    expect(JSON.stringify(buildIncidentMessage(incident()).blocks)).not.toContain('Blast radius');
  });
});
