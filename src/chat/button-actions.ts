// The buttons on an incident message (slack-message.ts puts them there): Acknowledge, Resolve,
// Silence 1h, Approve / Reject of a runbook's `approve` step, and Run runbook / Mark expected,
// which for now point at the slash command that does it. Each click is acknowledged at once (the
// receiver's answer to Slack), then checked against the clicker's role and done; the clicking
// user alone is told the outcome, through `response_url`. The incident message itself changes
// the way it always does: the action queues an outbox item and the deliverer edits the message.
// Every action lands in the incident timeline with the Slack user and source `slack`.

import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { formatDuration } from '../config/duration.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { acknowledgeIncidentById, resolveIncidentById } from '../incidents/manual-actions.ts';
import { SLACK_ACTIONS } from '../notify/slack-message.ts';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import { checkRunbookText } from '../runbooks/load-runbooks.ts';
import { insertIncidentEvents, selectIncidentTimeline } from '../store/incident-records.ts';
import { noteOnIncident } from '../incidents/incident-notes.ts';
import { decideApproval, type ApprovalDecision } from '../store/runbook-approvals.ts';
import { selectRun } from '../store/runbook-runs.ts';
import { insertSilence } from '../store/silences.ts';
import { withTransaction } from '../store/transaction.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ChatOperation } from './access-control.ts';
import type { Authorizer } from './slack-roles.ts';
import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import { runForIncident } from './run-command.ts';
import { planExpected } from './status-commands.ts';

export const BUTTON_SILENCE_MS = 60 * 60_000;

export interface ButtonActionDependencies {
  config: Config;
  pool: pg.Pool;
  logger: Logger;
  now: () => Date;
  /** The configured slash command, for the answers that point at it. */
  command: string;
  authorizer: Authorizer;
  /** The runbooks the daemon loaded; undefined until they are. */
  runbooks?: () => readonly LoadedRunbook[] | undefined;
}

interface Click {
  userId: string;
  value: string;
}

interface Button {
  actionId: string;
  /** What the clicker's role must allow; undefined: the answer only points at a slash command. */
  operation?: ChatOperation;
  handle: (click: Click, dependencies: ButtonActionDependencies) => Promise<string>;
}

const INCIDENT_ID = /^\d{1,18}$/;
const RUN_STEP = /^(\d{1,18}):(.+)$/;

const BUTTONS: readonly Button[] = [
  { actionId: SLACK_ACTIONS.acknowledge, operation: 'acknowledge', handle: (click, deps) => incidentAction('acknowledge', click, deps) },
  { actionId: SLACK_ACTIONS.resolve, operation: 'resolve', handle: (click, deps) => incidentAction('resolve', click, deps) },
  { actionId: SLACK_ACTIONS.silence1h, operation: 'silence', handle: silenceIncident },
  { actionId: SLACK_ACTIONS.approve, operation: 'approve', handle: (click, deps) => decide('approved', click, deps) },
  { actionId: SLACK_ACTIONS.reject, operation: 'approve', handle: (click, deps) => decide('rejected', click, deps) },
  { actionId: SLACK_ACTIONS.runRunbook, operation: 'run_runbook', handle: runRunbook },
  { actionId: SLACK_ACTIONS.markExpected, operation: 'mark_expected', handle: markExpected },
];

export function registerButtonActions(app: App, dependencies: ButtonActionDependencies): void {
  for (const button of BUTTONS) {
    app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: button.actionId }, async ({ ack, body, action, respond }) => {
      await ack();
      const click: Click = { userId: body.user.id, value: action.value ?? '' };
      let text: string;
      try {
        text = await clicked(button, click, dependencies);
      } catch (error) {
        dependencies.logger.error({ err: error, action: button.actionId, value: click.value, user: click.userId }, `Slack button ${button.actionId} failed: ${errorMessage(error)}`);
        text = 'That did not work: pipewarden hit an internal error (see its log). Try again, or use the slash command.';
      }
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    });
  }
}

async function clicked(button: Button, click: Click, dependencies: ButtonActionDependencies): Promise<string> {
  if (button.operation !== undefined) {
    let decision;
    try {
      decision = await dependencies.authorizer(click.userId, button.operation);
    } catch (error) {
      dependencies.logger.error({ err: error, user: click.userId }, `could not look up the Slack user groups of ${click.userId}: ${errorMessage(error)}`);
      return 'pipewarden could not check your role (the Slack user-group lookup failed; see its log); nothing changed. Try again in a moment.';
    }
    if (!decision.allowed) return decision.reason ?? 'Your pipewarden role does not allow that.';
  }
  return button.handle(click, dependencies);
}

function actor(click: Click): { by: string; source: string } {
  return { by: click.userId, source: 'slack' };
}

async function incidentAction(action: 'acknowledge' | 'resolve', click: Click, deps: ButtonActionDependencies): Promise<string> {
  if (!INCIDENT_ID.test(click.value)) return `This button names no incident (${JSON.stringify(click.value)}); nothing changed.`;
  const act = action === 'acknowledge' ? acknowledgeIncidentById : resolveIncidentById;
  try {
    const result = await act(deps.pool, deps.config, click.value, actor(click), deps.now());
    if (!result.changed) return `Incident #${click.value} was already ${result.incident.status}; nothing changed.`;
    return `${action === 'acknowledge' ? 'Acknowledged' : 'Resolved'} incident #${click.value} (\`${result.incident.check_id}\`).`;
  } catch (error) {
    if (error instanceof PipewardenError && error.code === 'incident_not_found') return `No incident #${click.value}; nothing changed.`;
    throw error;
  }
}

/** A silence on the incident's asset and check for an hour, recorded in the incident's timeline. */
async function silenceIncident(click: Click, deps: ButtonActionDependencies): Promise<string> {
  if (!INCIDENT_ID.test(click.value)) return `This button names no incident (${JSON.stringify(click.value)}); nothing changed.`;
  const found = await selectIncidentTimeline(deps.pool, click.value);
  if (found === undefined) return `No incident #${click.value}; nothing changed.`;
  const { incident } = found;
  const now = deps.now();
  const reason = `silenced from Slack by <@${click.userId}>`;
  const silence = await withTransaction(deps.pool, async (client) => {
    const created = await insertSilence(
      client,
      { assetGlobs: [incident.asset], checkGlobs: [incident.check_id], startsAt: now, endsAt: new Date(now.getTime() + BUTTON_SILENCE_MS), reason, createdBy: click.userId },
      now,
    );
    const note = { type: 'silenced' as const, by: click.userId, source: 'slack', silence: created.id, until: created.endsAt.toISOString(), reason };
    await noteOnIncident(client, deps.config, incident, note, { silence: created.id, until: note.until, message: reason }, now);
    return created;
  });
  return `Silence #${silence.id}: \`${incident.check_id}\` on \`${incident.asset}\` quiet for ${formatDuration(BUTTON_SILENCE_MS)} (until ${silence.endsAt.toISOString()}). \`${deps.command} unsilence ${silence.id}\` ends it.`;
}

/** Approve / Reject: value `RUN:STEP`. The first decision stands; later clicks are told it. */
async function decide(decision: ApprovalDecision, click: Click, deps: ButtonActionDependencies): Promise<string> {
  const match = RUN_STEP.exec(click.value);
  if (match === null) return `This button names no run and step (${JSON.stringify(click.value)}); nothing changed.`;
  const [, runId, step] = match as unknown as [string, string, string];
  const run = await selectRun(deps.pool, runId);
  if (run === undefined) return `No runbook run #${runId}; nothing changed.`;
  if (run.status !== 'queued' && run.status !== 'running') return `Run #${run.id} (${run.runbook}) already ended (${run.status}); nothing was recorded.`;
  const approveSteps = (checkRunbookText(run.runbook_source, run.runbook_file, ACTIONS).runbook?.steps ?? [])
    .filter((candidate) => candidate.definition.action === 'approve')
    .map((candidate) => candidate.definition.name);
  if (!approveSteps.includes(step)) return `Run #${run.id} (${run.runbook}) has no approve step \`${step}\`; nothing was recorded.`;
  const now = deps.now();
  const result = await withTransaction(deps.pool, async (client) => {
    const stands = await decideApproval(client, { runId: run.id, step, decision, by: click.userId, now });
    const mine = stands.decided_by === click.userId && stands.decision === decision && stands.decided_at.getTime() === now.getTime();
    if (mine && run.incident_id !== null) {
      await insertIncidentEvents(
        client,
        [{ incidentId: run.incident_id, type: 'runbook_approval', actor: click.userId, source: 'slack', detail: { run: run.id, runbook: run.runbook, step, decision, message: `step ${step} of run #${run.id} ${decision}` } }],
        now,
      );
    }
    return { stands, mine };
  });
  if (result.mine) return `Step \`${step}\` of run #${run.id} (${run.runbook}) ${decision}.`;
  const { stands } = result;
  return `Step \`${step}\` of run #${run.id} was already ${stands.decision} by ${stands.decided_by.startsWith('U') || stands.decided_by.startsWith('W') ? `<@${stands.decided_by}>` : stands.decided_by} at ${stands.decided_at.toISOString()}; that decision stands and nothing changed.`;
}

/** The runbook that matches the incident, run as `/pipewarden run` would (a destructive one asks for the command with `--yes`). */
async function runRunbook(click: Click, deps: ButtonActionDependencies): Promise<string> {
  if (!INCIDENT_ID.test(click.value)) return `This button names no incident (${JSON.stringify(click.value)}); nothing started.`;
  return runForIncident(click.value, { ...deps, userId: click.userId, runbooks: deps.runbooks?.() });
}

/** Same as `/pipewarden expected ID`. */
async function markExpected(click: Click, deps: ButtonActionDependencies): Promise<string> {
  if (!INCIDENT_ID.test(click.value)) return `This button names no incident (${JSON.stringify(click.value)}); nothing changed.`;
  const plan = planExpected([click.value], { ...deps, userId: click.userId });
  return plan.kind === 'reply' ? plan.text : plan.run();
}
