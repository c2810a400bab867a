// `/pipewarden status` and `/pipewarden expected` on a real state database: what each asset's
// checks last said, worst first; and an incident's finding marked expected from Slack.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSlashCommand, type SlashCommandContext } from '../../src/chat/slash-command.ts';
import { configSchema } from '../../src/config/schema.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { globToLike } from '../../src/store/latest-findings.ts';
import { insertFindings } from '../../src/store/sweep-records.ts';
import type { Finding } from '../../src/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const T0 = new Date('2026-12-04T10:00:00Z');
let state: TestDatabase;
let context: SlashCommandContext;

const finding = (kind: Finding['kind'], asset: string, status: Finding['status'], message: string, bucket?: string): Finding => ({
  check: `${kind}:${asset}`,
  kind,
  asset,
  status,
  observed: 1,
  message,
  ...(bucket === undefined ? {} : { bucket }),
});

async function answer(text: string): Promise<string> {
  const plan = planSlashCommand(text, context);
  return plan.kind === 'reply' ? plan.text : plan.run();
}

beforeAll(async () => {
  state = await createTestDatabase();
  const config = configSchema.parse({ warehouses: { shop: { type: 'postgres', url: 'postgres://127.0.0.1:1/x' } } });
  context = { pool: state.pool(), config, now: () => new Date(T0.getTime() + 60_000), userId: 'U0ANA', command: '/pipewarden' };
  await insertFindings(state.pool(), [finding('freshness', 'shop.raw.orders', 'ok', 'fresh'), finding('schema', 'shop.raw.orders', 'ok', 'unchanged')], new Date(T0.getTime() - 60_000));
  await insertFindings(
    state.pool(),
    [
      finding('freshness', 'shop.raw.orders', 'fail', 'shop.raw.orders: newest row is 2h old'),
      finding('volume', 'shop.mart.daily', 'fail', 'shop.mart.daily: 3 rows on Monday, expected 90–120', '2026-12-03T00:00:00.000Z'),
      finding('freshness', 'shop.mart.daily', 'ok', 'fresh'),
      finding('freshness', 'other.x_y', 'ok', 'fresh'),
    ],
    T0,
  );
  await applyFindings(state.pool(), config, [finding('volume', 'shop.mart.daily', 'fail', 'shop.mart.daily: 3 rows on Monday, expected 90–120', '2026-12-03T00:00:00.000Z'), finding('freshness', 'shop.raw.orders', 'fail', 'stale')], T0);
});

afterAll(async () => {
  await state?.drop();
});

describe('/pipewarden status', () => {
  it('lists matching assets worst first with what their checks last said', async () => {
    const text = await answer('status shop.*');
    expect(text.split('\n')).toEqual([
      ':red_circle: *shop.mart.daily* — 1 fail, 1 ok',
      '    • `volume:shop.mart.daily` fail: shop.mart.daily: 3 rows on Monday, expected 90–120',
      ':red_circle: *shop.raw.orders* — 1 fail, 1 ok',
      '    • `freshness:shop.raw.orders` fail: shop.raw.orders: newest row is 2h old',
    ]);
    expect(await answer('status')).toContain('*other.x_y*');
    expect(await answer('status nothing.*')).toMatch(/^No checks have run on assets matching `nothing\.\*`/);
    expect(await answer('status a b')).toMatch(/^`status` takes one asset or glob\. Usage/);
  });

  it('reads `_` and `%` in a glob as themselves, not as LIKE wildcards', async () => {
    expect(globToLike('other.x_y')).toBe('other.x\\_y');
    expect(await answer('status other.x_y')).toContain('*other.x_y*');
    expect(await answer('status other.x%y')).toMatch(/^No checks have run/);
  });
});

describe('/pipewarden expected', () => {
  it("marks the incident's finding expected: its bucket leaves the baseline, and the timeline says who", async () => {
    const { rows } = await state.pool().query<{ id: string }>("SELECT id FROM incidents WHERE check_id = 'volume:shop.mart.daily'");
    const id = String(rows[0]?.id);
    expect(await answer(`expected ${id}`)).toBe('Marked expected by <@U0ANA>: the 2026-12-03T00:00:00.000Z bucket of `volume:shop.mart.daily` leaves its baseline.');
    const marks = await state.pool().query("SELECT m.marked_by FROM expected_marks m JOIN findings f ON f.id = m.finding_id WHERE f.check_id = 'volume:shop.mart.daily'");
    expect(marks.rows).toEqual([{ marked_by: 'U0ANA' }]);
    const events = await state.pool().query('SELECT type, actor, source FROM incident_events WHERE incident_id = $1 AND type = $2', [id, 'marked_expected']);
    expect(events.rows).toEqual([{ type: 'marked_expected', actor: 'U0ANA', source: 'slack' }]);
    // Told like any other change of the incident (its chat thread, the console), never paged.
    const told = await state.pool().query<{ channel: string; text: string }>("SELECT channel, payload->>'text' AS text FROM outbox WHERE incident_id = $1 AND payload->>'change' = 'marked_expected'", [id]);
    expect(told.rows.length).toBeGreaterThan(0);
    expect(told.rows.every((row) => row.channel !== 'pagerduty')).toBe(true);
    expect(told.rows[0]?.text).toBe(`MARKED EXPECTED incident #${id} volume shop.mart.daily by U0ANA (slack): the 2026-12-03T00:00:00.000Z bucket of volume:shop.mart.daily leaves its baseline`);
  });

  it('says why a finding without a bucket cannot be marked, and refuses bad ids', async () => {
    const { rows } = await state.pool().query<{ id: string }>("SELECT id FROM incidents WHERE check_id = 'freshness:shop.raw.orders'");
    expect(await answer(`expected ${String(rows[0]?.id)}`)).toMatch(/has no time bucket to leave out of a baseline/);
    expect(await answer('expected 424242')).toMatch(/^No incident #424242\./);
    expect(await answer('expected')).toMatch(/^`expected` needs one incident id/);
  });
});
