// `pipewarden incidents [list|show ID|ack ID|resolve ID]`: what is open, and acting on it from a
// terminal. Acknowledging stops reminders; resolving closes the incident and restarts its check's
// pending period. Both are told to the owner's channels (and PagerDuty, when it was paged) through
// the outbox, which the running daemon delivers. `--json` prints the incidents as data.

import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { PipewardenError } from '../errors.ts';
import { acknowledgeIncidentById, resolveIncidentById, type ManualActionResult } from '../incidents/manual-actions.ts';
import { groupingLines, timelineText } from '../incidents/timeline-text.ts';
import { selectGroupedIncidents, selectIncidents, selectIncidentTimeline, type IncidentListFilter, type IncidentRow } from '../store/incident-records.ts';
import { selectRunsForIncident } from '../store/runbook-runs.ts';
import { withStateDatabase } from './cli-state.ts';
import { attemptJson, attemptLine, runJson, runLine } from './runbook-format.ts';
import { type CliCommand, type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';

interface ListOptions extends GlobalOptions {
  status: IncidentListFilter;
  limit: string;
}

interface ActOptions extends GlobalOptions {
  by?: string;
}

const FILTERS: readonly IncidentListFilter[] = ['active', 'open', 'acknowledged', 'resolved', 'all'];

export const incidentsCommand: CliCommand = {
  register(program, io, finish) {
    const incidents = program.command('incidents').description('List incidents, or acknowledge or resolve one');
    incidents
      .command('list', { isDefault: true })
      .description('List incidents, newest first')
      .addOption(new Option('--status <status>', 'which incidents').choices(FILTERS).default('active'))
      .option('--limit <n>', 'at most this many', '50')
      .option('--json', 'print incidents as JSON')
      .action(async (_options: unknown, command: Command) => finish(await runList(command.optsWithGlobals<ListOptions>(), io)));
    incidents
      .command('show <id>')
      .description('One incident and its timeline: findings, notifications, who acknowledged or resolved it and from where')
      .option('--json', 'print the incident and its timeline as JSON')
      .action(async (id: string, _options: unknown, command: Command) => finish(await runShow(id, command.optsWithGlobals<GlobalOptions>(), io)));
    for (const [name, description] of [
      ['ack', 'Acknowledge an incident: reminders stop, PagerDuty is told'],
      ['resolve', 'Resolve an incident by hand; its check starts a new pending period'],
    ] as const) {
      incidents
        .command(`${name} <id>`)
        .description(description)
        .option('--by <name>', 'who is acting (default: your user name)')
        .option('--json', 'print the incident as JSON')
        .action(async (id: string, _options: unknown, command: Command) => finish(await runAction(name, id, command.optsWithGlobals<ActOptions>(), io)));
    }
  },
};

async function runList(options: ListOptions, io: CliIo): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    writeLine(io.stderr, `error: --limit must be a positive whole number, got ${JSON.stringify(options.limit)}`);
    return 2;
  }
  return withStateDatabase(options, io, async (state) => {
    const rows = await selectIncidents(state.pool, options.status, limit);
    if (options.json) writeJson(io.stdout, { incidents: rows.map(incidentJson) });
    else if (rows.length === 0) writeLine(io.stdout, `no ${options.status === 'all' ? '' : `${options.status} `}incidents`);
    else for (const row of rows) writeLine(io.stdout, incidentLine(row));
    return 0;
  });
}

async function runShow(id: string, options: GlobalOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    const found = await selectIncidentTimeline(state.pool, id);
    if (found === undefined) {
      writeLine(io.stderr, `error [incident_not_found]: No incident #${id}. \`pipewarden incidents list --status all\` shows them.`);
      return 1;
    }
    const runs = await selectRunsForIncident(state.pool, found.incident.id);
    if (options.json) {
      const timeline = found.events.map((event) => ({ ...event, at: event.at.toISOString() }));
      writeJson(io.stdout, { incident: incidentJson(found.incident), timeline, runs: runs.map(({ run, attempts }) => ({ ...runJson(run), attempts: attempts.map(attemptJson) })) });
      return 0;
    }
    writeLine(io.stdout, incidentLine(found.incident));
    for (const line of groupingLines(found.incident, await selectGroupedIncidents(state.pool, found.incident.id))) writeLine(io.stdout, `  ${line}`);
    for (const event of found.events) writeLine(io.stdout, `  ${event.at.toISOString()} ${timelineText(event)}`);
    // What runbooks tried, step by step: the record a page carries, here for the person at the terminal.
    for (const { run, attempts } of runs) {
      writeLine(io.stdout, `  runbook run ${runLine(run)}`);
      for (const attempt of attempts) writeLine(io.stdout, `    ${attempt.started_at.toISOString()} ${attemptLine(attempt)}`);
    }
    return 0;
  });
}

async function runAction(action: 'ack' | 'resolve', id: string, options: ActOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state, config) => {
    const actor = { by: options.by ?? userInfo().username, source: 'cli' };
    const now = io.now?.() ?? new Date();
    let result: ManualActionResult;
    try {
      result = action === 'ack' ? await acknowledgeIncidentById(state.pool, config, id, actor, now) : await resolveIncidentById(state.pool, config, id, actor, now);
    } catch (error) {
      if (error instanceof PipewardenError && error.code === 'incident_not_found') {
        writeLine(io.stderr, `error [${error.code}]: ${error.message}`);
        return 1;
      }
      throw error;
    }
    if (options.json) writeJson(io.stdout, { incident: incidentJson(result.incident), changed: result.changed });
    else writeLine(io.stdout, result.changed ? incidentLine(result.incident) : `incident #${result.incident.id} was already ${result.incident.status}; nothing changed`);
    return 0;
  });
}

function incidentLine(row: IncidentRow): string {
  const flapping = row.flapping ? ' flapping' : '';
  const owner = row.owner === null ? 'no owner' : `owner ${row.owner}`;
  const by = row.status === 'acknowledged' ? ` by ${row.acknowledged_by}` : row.status === 'resolved' ? ` by ${row.resolved_by}` : '';
  return `#${row.id} ${row.status}${by} ${row.severity}${flapping} ${row.check_id} (${owner}, opened ${row.opened_at.toISOString()}): ${row.last_finding.message}`;
}

function incidentJson(row: IncidentRow): Record<string, unknown> {
  return {
    id: row.id,
    check: row.check_id,
    kind: row.kind,
    asset: row.asset,
    ...(row.column_name === null ? {} : { column: row.column_name }),
    status: row.status,
    severity: row.severity,
    flapping: row.flapping,
    owner: row.owner,
    dedupKey: row.dedup_key,
    openedAt: row.opened_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    resolvedBy: row.resolved_by,
    pagedAt: row.paged_at?.toISOString() ?? null,
    causedBy: row.caused_by,
    blastRadius: row.blast_radius,
    finding: row.last_finding,
  };
}
