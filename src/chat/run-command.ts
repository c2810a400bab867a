// Runbooks from Slack: `/pipewarden run RUNBOOK ASSET [--param NAME=VALUE…] [--dry-run] [--yes]`
// and the incident message's Run runbook button. The run is the same as the CLI's: queued with
// startRun (joined to the asset's open incident, which it then sees the finding of), executed by
// the daemon's executor, its progress shown on the incident message. `--dry-run` shows the plan
// with every bound value and starts nothing. A destructive plan needs `--yes`, typed after
// reviewing the dry run: the explicit confirmation, on top of the responder role.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { RunbookError } from '../errors.ts';
import { planLines } from '../cli/runbook-format.ts';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import { matchRunbook } from '../runbooks/match-runbooks.ts';
import { planRun } from '../runbooks/plan-run.ts';
import { runVariables } from '../runbooks/run-session.ts';
import { selectLineageNode } from '../store/lineage.ts';
import { resolveParams, startRun } from '../runbooks/start-run.ts';
import { insertIncidentEvents, selectIncident } from '../store/incident-records.ts';
import { selectActiveIncidentForAsset } from '../store/runbook-runs.ts';
import { withTransaction } from '../store/transaction.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SlashCommandContext, SlashCommandPlan } from './slash-command.ts';

interface RunRequest {
  runbook: string;
  asset: string;
  params: Record<string, string>;
  dryRun: boolean;
  confirmed: boolean;
}

function parseRunArgs(args: readonly string[]): RunRequest | string {
  const positional: string[] = [];
  const params: Record<string, string> = {};
  let dryRun = false;
  let confirmed = false;
  for (let index = 0; index < args.length; index++) {
    const word = args[index] as string;
    if (word === '--dry-run') dryRun = true;
    else if (word === '--yes') confirmed = true;
    else if (word === '--param') {
      const pair = args[++index];
      const equals = pair?.indexOf('=') ?? -1;
      if (pair === undefined || equals <= 0) return '`--param` needs NAME=VALUE';
      params[pair.slice(0, equals)] = pair.slice(equals + 1);
    } else if (word.startsWith('--')) return `unknown option \`${word}\``;
    else positional.push(word);
  }
  const [runbook, asset, ...extra] = positional;
  if (runbook === undefined || asset === undefined || extra.length > 0) return '`run` needs a runbook and an asset';
  return { runbook, asset, params, dryRun, confirmed };
}

interface RunDependencies {
  pool: pg.Pool;
  config: Config;
  now: () => Date;
  userId: string;
  command: string;
  runbooks: readonly LoadedRunbook[];
}

/** Plans, refuses or queues one run; the text answers the person who asked. */
export async function requestRun(request: RunRequest, deps: RunDependencies): Promise<string> {
  const runbook = deps.runbooks.find((candidate) => candidate.definition.name === request.runbook);
  if (runbook === undefined) return `No runbook \`${request.runbook}\`. \`${deps.command} runbooks\` lists the ${deps.runbooks.length} pipewarden loaded.`;
  let params: Record<string, unknown>;
  try {
    params = resolveParams(runbook, request.params);
  } catch (error) {
    if (error instanceof RunbookError) return `${error.message}.`;
    throw error;
  }
  const incident = await selectActiveIncidentForAsset(deps.pool, request.asset);
  const startedBy = `slack:${deps.userId}`;
  const lineage = await selectLineageNode(deps.pool, request.asset);
  const subject = { finding: incident?.finding, asset: request.asset, incidentId: incident?.id, params, run: { runbook: runbook.definition.name, started_by: startedBy }, lineage };
  const plan = planRun(runbook, ACTIONS, runVariables(subject, deps.config.runbooks));
  if (request.dryRun) return ['```', ...planLines(plan, { asset: request.asset, params, incidentId: incident?.id }), '```'].join('\n');
  if (plan.destructive && !request.confirmed) {
    const steps = plan.steps.filter((step) => step.mayRun && step.destructive.value).map((step) => step.name);
    return `\`${runbook.definition.name}\` is destructive (steps ${steps.join(', ')} change data or state others rely on). Review it with \`${deps.command} run ${request.runbook} ${request.asset} --dry-run\`, then add \`--yes\` to start it.`;
  }
  const run = await withTransaction(deps.pool, async (client) => {
    const queued = await startRun(client, runbook, { asset: request.asset, params, startedBy, now: deps.now(), ...(incident === undefined ? {} : { incidentId: incident.id, finding: incident.finding }) });
    // Started by a person: their name goes on the incident's timeline with the run.
    if (incident !== undefined) {
      const detail = { run: queued.id, runbook: runbook.definition.name, message: `run #${queued.id} of ${runbook.definition.name} started` };
      await insertIncidentEvents(client, [{ incidentId: incident.id, type: 'runbook_started', actor: deps.userId, source: 'slack', detail }], deps.now());
    }
    return queued;
  });
  const where = incident === undefined ? `\`pipewarden runbook show ${run.id}\` follows it` : `its progress shows on incident #${incident.id}'s message`;
  return `Queued run #${run.id} of \`${runbook.definition.name}\` on \`${request.asset}\`, started by <@${deps.userId}>; pipewarden's executor starts it within seconds and ${where}.`;
}

export function planRunCommand(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const request = parseRunArgs(args);
  if (typeof request === 'string') return { kind: 'reply', text: `${request}. Usage: \`${context.command} run RUNBOOK ASSET [--param NAME=VALUE] [--dry-run] [--yes]\`` };
  const runbooks = context.runbooks?.();
  if (runbooks === undefined) return { kind: 'reply', text: 'pipewarden has not loaded its runbooks yet; try again in a moment.' };
  return { kind: 'work', run: () => requestRun(request, { ...context, runbooks }) };
}

/** The Run runbook button: the runbook that matches the incident, run as `/pipewarden run` would. */
export async function runForIncident(incidentId: string, deps: Omit<RunDependencies, 'runbooks'> & { runbooks: readonly LoadedRunbook[] | undefined; logger: Logger }): Promise<string> {
  if (deps.runbooks === undefined) return 'pipewarden has not loaded its runbooks yet; try again in a moment.';
  const incident = await selectIncident(deps.pool, incidentId);
  if (incident === undefined) return `No incident #${incidentId}; nothing started.`;
  // matchRunbook logs and skips a runbook whose `when` cannot be evaluated; it does not throw.
  const matched = matchRunbook(deps.runbooks, { finding: incident.last_finding, incident }, deps.logger);
  if (matched === undefined) return `No runbook matches incident #${incidentId}. \`${deps.command} runbooks\` lists them; \`${deps.command} run RUNBOOK ${incident.asset}\` runs one by hand.`;
  return requestRun({ runbook: matched.definition.name, asset: incident.asset, params: {}, dryRun: false, confirmed: false }, { ...deps, runbooks: deps.runbooks });
}
