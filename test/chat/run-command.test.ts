// `/pipewarden run` and the Run runbook button on a real state database: a run is queued as the
// Slack user, joined to the asset's open incident; a dry run starts nothing; a destructive plan
// needs `--yes`; the button runs the runbook that matches the incident.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runForIncident } from '../../src/chat/run-command.ts';
import { planSlashCommand, type SlashCommandContext } from '../../src/chat/slash-command.ts';
import { configSchema } from '../../src/config/schema.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { ACTIONS } from '../../src/runbooks/actions/registry.ts';
import { checkRunbookText } from '../../src/runbooks/load-runbooks.ts';
import type { LoadedRunbook } from '../../src/runbooks/loaded-runbook.ts';
import type { Finding } from '../../src/types.ts';
import { testLogger } from '../helpers/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const ASSET = 'shop.raw.inventory';
const STALE: Finding = { check: `freshness:${ASSET}`, kind: 'freshness', asset: ASSET, status: 'fail', observed: 7200, message: `${ASSET}: newest row is 2h old` };

const RUNBOOKS = {
  reload: `name: reload
match: { checks: [freshness], assets: ["shop.raw.*"] }
params: { day: { type: string, default: today } }
steps:
  - name: load
    action: command
    with: { argv: ["/bin/true", "\${params.day}", "\${finding.check}"] }
`,
  wipe: `name: wipe
steps:
  - name: truncate
    action: sql
    with: { statement: "truncate {{t}}", identifiers: { t: ["\${asset.schema}", "\${asset.table}"] } }
`,
};

let state: TestDatabase;
let context: SlashCommandContext;
let runbooks: LoadedRunbook[];
let incidentId: string;

async function answer(text: string): Promise<string> {
  const plan = planSlashCommand(text, context);
  return plan.kind === 'reply' ? plan.text : plan.run();
}

async function runs(): Promise<Array<{ runbook: string; started_by: string; incident_id: string | null; finding: Finding | null; params: Record<string, unknown> }>> {
  const { rows } = await state.pool().query('SELECT runbook, started_by, incident_id::text, finding, params FROM runbook_runs ORDER BY id');
  return rows;
}

beforeAll(async () => {
  state = await createTestDatabase();
  const config = configSchema.parse({ warehouses: { shop: { type: 'postgres', url: 'postgres://127.0.0.1:1/x' } } });
  runbooks = Object.entries(RUNBOOKS).map(([name, text]) => checkRunbookText(text, `${name}.yaml`, ACTIONS).runbook as LoadedRunbook);
  context = { pool: state.pool(), config, now: () => new Date(), userId: 'U0ANA', command: '/pipewarden', runbooks: () => runbooks };
  await applyFindings(state.pool(), config, [STALE], new Date());
  incidentId = String((await state.pool().query<{ id: string }>('SELECT id FROM incidents')).rows[0]?.id);
});

afterAll(async () => {
  await state?.drop();
});

describe('/pipewarden run', () => {
  it('shows the plan with every bound value on --dry-run and starts nothing', async () => {
    const text = await answer(`run reload ${ASSET} --param day=2026-12-01 --dry-run`);
    expect(text).toContain('dry run of runbook reload for asset shop.raw.inventory: nothing was executed');
    expect(text).toContain('2026-12-01');
    expect(text).toContain(`freshness:${ASSET}`);
    expect(await runs()).toEqual([]);
  });

  it('queues the run as the Slack user, on the asset’s open incident and its finding', async () => {
    expect(await answer(`run reload ${ASSET} --param day=2026-12-01`)).toMatch(new RegExp(`^Queued run #\\d+ of \`reload\` on \`${ASSET.replaceAll('.', '\\.')}\`, started by <@U0ANA>; .*incident #${incidentId}'s message`));
    expect(await runs()).toEqual([expect.objectContaining({ runbook: 'reload', started_by: 'slack:U0ANA', incident_id: incidentId, finding: expect.objectContaining({ check: STALE.check }), params: { day: '2026-12-01' } })]);
    const { rows } = await state.pool().query('SELECT type, actor, source FROM incident_events WHERE incident_id = $1 AND type = $2', [incidentId, 'runbook_started']);
    expect(rows).toEqual([{ type: 'runbook_started', actor: 'U0ANA', source: 'slack' }]);
    // `explain` now shows what the runbook tried (queued, nothing yet).
    expect(await answer(`explain ${incidentId}`)).toMatch(/\*What runbooks tried\*\n• run #\d+ reload: queued/);
  });

  it('refuses a destructive run without --yes, and queues it with', async () => {
    const before = (await runs()).length;
    expect(await answer('run wipe shop.raw.orders')).toMatch(/^`wipe` is destructive \(steps truncate change data .*add `--yes` to start it\.$/);
    expect(await runs()).toHaveLength(before);
    expect(await answer('run wipe shop.raw.orders --yes')).toMatch(/^Queued run #\d+ of `wipe`/);
    expect(await runs()).toHaveLength(before + 1);
  });

  it('answers bad input with what is wrong and the usage', async () => {
    expect(await answer('run')).toMatch(/^`run` needs a runbook and an asset\. Usage: `\/pipewarden run RUNBOOK ASSET/);
    expect(await answer(`run nope ${ASSET}`)).toMatch(/^No runbook `nope`\. `\/pipewarden runbooks` lists the 2/);
    expect(await answer(`run reload ${ASSET} --param nope=1`)).toMatch(/has no parameter "nope"/);
    expect(await answer(`run reload ${ASSET} --force`)).toMatch(/^unknown option `--force`/);
  });
});

describe('the Run runbook button', () => {
  it('runs the runbook that matches the incident, as the clicking user', async () => {
    const before = (await runs()).length;
    const text = await runForIncident(incidentId, { ...context, userId: 'U0BOB', runbooks, logger: testLogger() });
    expect(text).toMatch(/^Queued run #\d+ of `reload`/);
    expect((await runs()).at(before)).toMatchObject({ runbook: 'reload', started_by: 'slack:U0BOB', incident_id: incidentId });
    expect(await runForIncident('424242', { ...context, runbooks, logger: testLogger() })).toBe('No incident #424242; nothing started.');
  });
});
