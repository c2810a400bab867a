// `/pipewarden SUBCOMMAND ARGS…`: the text Slack sends, split shell-style (quotes group words, so
// `silence "analytics.raw.*" 2h rebuilding` is three arguments), checked, and turned into either
// an answer right away (help, usage) or work that answers later through `response_url` (anything
// that reads or writes the state database), so the acknowledgement never waits on Postgres.
// Every problem the user can cause becomes a usage line; nothing here shows a stack trace.

import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { PipewardenError } from '../errors.ts';
import { acknowledgeIncidentById, resolveIncidentById, type Actor, type ManualActionResult } from '../incidents/manual-actions.ts';
import { selectGroupedIncidents, selectIncidents, selectIncidentTimeline, type IncidentRow } from '../store/incident-records.ts';
import { cancelSilence, insertSilence } from '../store/silences.ts';
import { withTransaction } from '../store/transaction.ts';
import { noteSilenceOnCoveredIncidents } from '../incidents/incident-notes.ts';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import { runbookMayBeDestructive } from '../runbooks/plan-run.ts';
import type { ChatOperation } from './access-control.ts';
import { groupingLines, timelineText } from '../incidents/timeline-text.ts';
import { attemptLine } from '../cli/runbook-format.ts';
import { selectRunsForIncident } from '../store/runbook-runs.ts';
import { planExpected, planStatus } from './status-commands.ts';
import { planRunCommand } from './run-command.ts';

export interface SlashCommandContext {
  pool: pg.Pool;
  config: Config;
  now: () => Date;
  /** The Slack user id of the person typing (recorded in the incident timeline). */
  userId: string;
  /** The configured command, e.g. `/pipewarden`, for usage lines. */
  command: string;
  /** The runbooks the daemon loaded; undefined until they are. */
  runbooks?: () => readonly LoadedRunbook[] | undefined;
}

export type SlashCommandPlan =
  /** Answer in the acknowledgement itself. */
  | { kind: 'reply'; text: string }
  /** Acknowledge at once; answer with `run()`'s text through `response_url`. */
  | { kind: 'work'; run: () => Promise<string> };

interface Subcommand {
  name: string;
  args: string;
  summary: string;
  /** What the role must allow; undefined for `help`, which shows nothing of the state. */
  operation?: ChatOperation;
  /** Undefined while the subcommand is not built yet (it then says so instead of pretending). */
  plan?: (args: readonly string[], context: SlashCommandContext) => SlashCommandPlan;
}

const INCIDENT_ID = /^#?(\d{1,18})$/;
const LIST_LIMIT = 20;
/** `explain` shows the newest timeline entries; `pipewarden incidents show ID` has them all. */
const TIMELINE_LIMIT = 15;

const SUBCOMMANDS: readonly Subcommand[] = [
  { name: 'help', args: '', summary: 'this list', plan: (_args, context) => ({ kind: 'reply', text: helpText(context.command) }) },
  { name: 'status', operation: 'read', args: '[ASSET|GLOB]', summary: 'health of assets, with the latest findings', plan: planStatus },
  { name: 'incidents', operation: 'read', args: '', summary: 'the open and acknowledged incidents', plan: planIncidents },
  { name: 'ack', operation: 'acknowledge', args: 'ID', summary: 'acknowledge an incident: reminders stop', plan: (args, context) => planIncidentAction('ack', args, context) },
  { name: 'resolve', operation: 'resolve', args: 'ID', summary: 'resolve an incident by hand', plan: (args, context) => planIncidentAction('resolve', args, context) },
  { name: 'silence', operation: 'silence', args: 'TARGET DURATION [reason]', summary: 'keep an asset glob (or a check glob with `:`) quiet, e.g. `silence "analytics.raw.*" 2h rebuilding`', plan: planSilence },
  { name: 'unsilence', operation: 'unsilence', args: 'ID', summary: 'end a silence now', plan: planUnsilence },
  { name: 'runbooks', operation: 'read', args: '', summary: 'the runbooks pipewarden knows', plan: planRunbooks },
  { name: 'run', operation: 'run_runbook', args: 'RUNBOOK ASSET [--param NAME=VALUE] [--dry-run] [--yes]', summary: 'run a runbook against an asset (`--dry-run` shows the plan; a destructive one needs `--yes`)', plan: planRunCommand },
  { name: 'explain', operation: 'read', args: 'ID', summary: 'observed vs expected, baseline, blast radius, timeline, what runbooks tried', plan: planExplain },
  { name: 'expected', operation: 'mark_expected', args: 'ID', summary: 'mark the finding as expected: it leaves the baseline', plan: planExpected },
];

export const SUBCOMMAND_NAMES: readonly string[] = SUBCOMMANDS.map((subcommand) => subcommand.name);

export function planSlashCommand(text: string, context: SlashCommandContext): SlashCommandPlan {
  const split = splitWords(text);
  if (!split.ok) return usage(context.command, split.problem);
  const [name, ...args] = split.words;
  if (name === undefined) return { kind: 'reply', text: helpText(context.command) };
  const subcommand = SUBCOMMANDS.find((candidate) => candidate.name === name.toLowerCase());
  if (subcommand === undefined) return usage(context.command, `unknown subcommand \`${name}\``);
  if (subcommand.plan === undefined) return { kind: 'reply', text: `\`${context.command} ${subcommand.name}\` is not available yet in this build.` };
  return subcommand.plan(args, context);
}

/**
 * What the command would do, for the role check: undefined for `help`, an unknown subcommand or
 * text that does not split (those only get help or a usage line back).
 */
export function slashCommandOperation(text: string): ChatOperation | undefined {
  const split = splitWords(text);
  const name = split.ok ? split.words[0] : undefined;
  if (name === undefined) return undefined;
  return SUBCOMMANDS.find((candidate) => candidate.name === name.toLowerCase())?.operation;
}

export function helpText(command: string): string {
  const lines = SUBCOMMANDS.map((subcommand) => `• \`${usageOf(command, subcommand)}\` — ${subcommand.summary}${subcommand.plan === undefined ? ' (not available yet in this build)' : ''}`);
  return [`*${command}* subcommands:`, ...lines].join('\n');
}

function usageOf(command: string, subcommand: Subcommand): string {
  return `${command} ${subcommand.name}${subcommand.args === '' ? '' : ` ${subcommand.args}`}`;
}

function usage(command: string, problem: string, subcommand?: string): SlashCommandPlan {
  const known = SUBCOMMANDS.find((candidate) => candidate.name === subcommand);
  const hint = known === undefined ? `\`${command} help\` lists the subcommands.` : `Usage: \`${usageOf(command, known)}\``;
  return { kind: 'reply', text: `${problem}. ${hint}` };
}

export type SplitResult = { ok: true; words: string[] } | { ok: false; problem: string };

/**
 * Shell-style words: whitespace separates, "double" or 'single' quotes group (Slack clients often
 * turn straight quotes into curly ones, so those count too), a backslash escapes the next character.
 */
export function splitWords(text: string): SplitResult {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  const closing: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '”': '”', '’': '’' };
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote !== undefined) {
      if (char === quote || (quote === '"' && char === '”') || (quote === "'" && char === '’')) quote = undefined;
      else word = (word ?? '') + char;
    } else if (char === '\\' && index + 1 < text.length) {
      word = (word ?? '') + text[++index];
    } else if (closing[char] !== undefined) {
      quote = closing[char];
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== undefined) return { ok: false, problem: `a quote is not closed (${quote} expected)` };
  if (word !== undefined) words.push(word);
  return { ok: true, words };
}

function actor(context: SlashCommandContext): Actor {
  return { by: context.userId, source: 'slack' };
}

function planIncidents(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  if (args.length > 0) return usage(context.command, '`incidents` takes no arguments', 'incidents');
  return {
    kind: 'work',
    run: async () => {
      const rows = await selectIncidents(context.pool, 'active', LIST_LIMIT + 1);
      if (rows.length === 0) return 'No open or acknowledged incidents.';
      const more = rows.length > LIST_LIMIT ? `\n…and more: \`pipewarden incidents\` lists them all.` : '';
      return `${rows.slice(0, LIST_LIMIT).map(incidentLine).join('\n')}${more}`;
    },
  };
}

function planIncidentAction(name: 'ack' | 'resolve', args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const match = args.length === 1 ? INCIDENT_ID.exec(args[0] as string) : null;
  if (match === null) return usage(context.command, args.length === 0 ? `\`${name}\` needs an incident id` : `\`${args.join(' ')}\` is not one incident id`, name);
  const id = match[1] as string;
  return {
    kind: 'work',
    run: async () => {
      let result: ManualActionResult;
      try {
        const act = name === 'ack' ? acknowledgeIncidentById : resolveIncidentById;
        result = await act(context.pool, context.config, id, actor(context), context.now());
      } catch (error) {
        if (error instanceof PipewardenError && error.code === 'incident_not_found') return `No incident #${id}. \`${context.command} incidents\` lists the active ones.`;
        throw error;
      }
      if (!result.changed) return `Incident #${id} was already ${result.incident.status}; nothing changed.`;
      return `${name === 'ack' ? 'Acknowledged' : 'Resolved'} by <@${context.userId}>: ${incidentLine(result.incident)}`;
    },
  };
}

function planSilence(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const [target, duration, ...reasonWords] = args;
  if (target === undefined || duration === undefined) return usage(context.command, '`silence` needs a target and a duration', 'silence');
  const forMs = parseDuration(duration);
  if (forMs === undefined || forMs <= 0) return usage(context.command, `\`${duration}\` is not a duration; use e.g. 30m, 2h or 1d`, 'silence');
  const reason = reasonWords.join(' ').trim() || `silenced from Slack by <@${context.userId}>`;
  // Check ids are `kind:asset[:column]`; asset keys have no colon.
  const isCheck = target.includes(':');
  return {
    kind: 'work',
    run: async () => {
      const startsAt = context.now();
      const { silence, noted } = await withTransaction(context.pool, async (client) => {
        const created = await insertSilence(
          client,
          { assetGlobs: isCheck ? [] : [target], checkGlobs: isCheck ? [target] : [], startsAt, endsAt: new Date(startsAt.getTime() + forMs), reason, createdBy: context.userId },
          startsAt,
        );
        return { silence: created, noted: await noteSilenceOnCoveredIncidents(client, context.config, created, { by: context.userId, source: 'slack' }, startsAt) };
      });
      const covers = noted.length === 0 ? '' : ` (covers incident${noted.length === 1 ? '' : 's'} ${noted.map((id) => `#${id}`).join(', ')})`;
      return `Silence #${silence.id}${covers}: ${isCheck ? 'check' : 'asset'} \`${target}\` quiet for ${formatDuration(forMs)} (until ${silence.endsAt.toISOString()}): ${reason}`;
    },
  };
}

function planUnsilence(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const match = args.length === 1 ? INCIDENT_ID.exec(args[0] as string) : null;
  if (match === null) return usage(context.command, args.length === 0 ? '`unsilence` needs a silence id' : `\`${args.join(' ')}\` is not one silence id`, 'unsilence');
  const id = match[1] as string;
  return {
    kind: 'work',
    run: async () => ((await cancelSilence(context.pool, id, context.now())) ? `Silence #${id} cancelled.` : `No active silence #${id}.`),
  };
}

function incidentLine(row: IncidentRow): string {
  const by = row.status === 'acknowledged' && row.acknowledged_by !== null ? ` by ${row.acknowledged_by}` : row.status === 'resolved' && row.resolved_by !== null ? ` by ${row.resolved_by}` : '';
  return `#${row.id} ${row.status}${by} ${row.severity} \`${row.check_id}\`${row.owner === null ? '' : ` (${row.owner})`}: ${row.last_finding.message}`;
}

function planExplain(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const match = args.length === 1 ? INCIDENT_ID.exec(args[0] as string) : null;
  if (match === null) return usage(context.command, args.length === 0 ? '`explain` needs an incident id' : `\`${args.join(' ')}\` is not one incident id`, 'explain');
  const id = match[1] as string;
  return {
    kind: 'work',
    run: async () => {
      const found = await selectIncidentTimeline(context.pool, id);
      if (found === undefined) return `No incident #${id}. \`${context.command} incidents\` lists the active ones.`;
      const { incident, events } = found;
      const finding = incident.last_finding;
      const expected = finding.expected === undefined ? 'no baseline range' : `expected ${finding.expected.low} to ${finding.expected.high}`;
      const score = finding.score === undefined ? '' : `, score ${finding.score}`;
      const bucket = finding.bucket === undefined ? '' : ` for the bucket of ${finding.bucket}`;
      const shown = events.slice(-TIMELINE_LIMIT);
      const earlier = events.length > shown.length ? [`…${events.length - shown.length} earlier entries: \`pipewarden incidents show ${incident.id}\``] : [];
      const [runs, symptoms] = await Promise.all([selectRunsForIncident(context.pool, incident.id), selectGroupedIncidents(context.pool, incident.id)]);
      return [
        incidentLine(incident),
        `Observed ${finding.observed ?? 'nothing (could not measure)'}, ${expected}${score}${bucket}.`,
        `Owner: ${incident.owner ?? 'none'}. Opened ${incident.opened_at.toISOString()}.`,
        ...groupingLines(incident, symptoms),
        '*Timeline*',
        ...earlier,
        ...shown.map((event) => `• ${event.at.toISOString()} ${timelineText(event)}`),
        ...(runs.length === 0 ? [] : ['*What runbooks tried*', ...runs.flatMap(({ run, attempts }) => [`• run #${run.id} ${run.runbook}: ${run.status}${run.outcome === null ? '' : ` — ${run.outcome}`}`, ...attempts.map((attempt) => `    ◦ ${attemptLine(attempt)}`)])]),
      ].join('\n');
    },
  };
}

function planRunbooks(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  if (args.length > 0) return usage(context.command, '`runbooks` takes no arguments', 'runbooks');
  const runbooks = context.runbooks?.();
  if (runbooks === undefined) return { kind: 'reply', text: 'The runbooks are not loaded yet; try again in a moment.' };
  if (runbooks.length === 0) return { kind: 'reply', text: 'No runbooks are loaded (runbooks.folder is empty).' };
  return { kind: 'reply', text: runbooks.map(runbookLine).join('\n') };
}

function runbookLine(runbook: LoadedRunbook): string {
  const { definition } = runbook;
  const match = definition.match;
  const matches = match === undefined ? 'by hand only' : `checks ${match.checks?.join(',') ?? 'any'}, assets ${match.assets?.join(',') ?? 'any'}`;
  const description = definition.description === undefined ? '' : ` — ${definition.description}`;
  const destructive = runbookMayBeDestructive(runbook, ACTIONS) ? ', destructive' : '';
  return `• *${definition.name}*${description} (${matches}; ${definition.steps.length} steps${destructive})`;
}
