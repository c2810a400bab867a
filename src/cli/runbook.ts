// `pipewarden runbook list | run | runs | show | approve | reject | cancel`: the runbooks this
// config loads, starting one by hand (src/cli/runbook-run.ts), the history of runs, and the
// decisions a person makes on a run in flight. `--json` prints the same as data.

import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import { checkRunbookText, loadRunbooksOrThrow } from '../runbooks/load-runbooks.ts';
import { runbookMayBeDestructive } from '../runbooks/plan-run.ts';
import { decideApproval, type ApprovalDecision } from '../store/runbook-approvals.ts';
import { cancelRun, selectAttempts, selectRecentRuns, selectRun, type RunRow } from '../store/runbook-runs.ts';
import type { StateDatabase } from '../store/state-database.ts';
import { loadCliConfig } from './cli-config.ts';
import { type CliCommand, type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';
import { withStateDatabase } from './cli-state.ts';
import { attemptDetailLines, attemptJson, runbookJson, runbookLines, runJson, runLine } from './runbook-format.ts';
import { runRunbook, type RunOptions } from './runbook-run.ts';

interface RunsOptions extends GlobalOptions {
  limit: string;
}

interface DecideOptions extends GlobalOptions {
  comment?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const runbookCommand: CliCommand = {
  register(program, io, finish) {
    const runbook = program.command('runbook').description('List runbooks, run one by hand, and follow or decide on runs');
    runbook
      .command('list')
      .description('The runbooks in runbooks.folder: what they match, their params, and whether they are destructive')
      .option('--json', 'print runbooks as JSON')
      .action(async (_options: unknown, command: Command) => finish(await runList(command.optsWithGlobals<GlobalOptions>(), io)));
    runbook
      .command('run <name>')
      .description('Run a runbook for an asset (review it first with --dry-run)')
      .requiredOption('--asset <key>', 'the asset the run is about, e.g. analytics.raw.inventory')
      .option('--param <name=value>', 'a runbook parameter (repeatable)', collect, [])
      .option('--dry-run', 'print what the run would do, with every value bound, and do nothing')
      .option('--yes', 'confirm a destructive runbook')
      .option('--no-wait', 'queue the run for the daemon instead of executing it here')
      .option('--json', 'print the plan or the run as JSON')
      .action(async (name: string, _options: unknown, command: Command) => finish(await runRunbook(name, command.optsWithGlobals<RunOptions>(), io)));
    runbook
      .command('runs')
      .description('Recent runs, newest first')
      .option('--limit <n>', 'at most this many', '20')
      .option('--json', 'print runs as JSON')
      .action(async (_options: unknown, command: Command) => finish(await runRuns(command.optsWithGlobals<RunsOptions>(), io)));
    runbook
      .command('show <run>')
      .description('One run and its step attempts: timings, errors, inputs and outputs')
      .option('--json', 'print the run and its attempts as JSON')
      .action(async (id: string, _options: unknown, command: Command) => finish(await runShow(id, command.optsWithGlobals<GlobalOptions>(), io)));
    for (const [name, decision] of [
      ['approve', 'approved'],
      ['reject', 'rejected'],
    ] as const) {
      runbook
        .command(`${name} <run> <step>`)
        .description(`${name === 'approve' ? 'Approve' : 'Reject'} a run's approve step; the first decision stands`)
        .option('--comment <text>', 'why, recorded with the decision')
        .action(async (id: string, step: string, _options: unknown, command: Command) => finish(await runDecide(id, step, decision, command.optsWithGlobals<DecideOptions>(), io)));
    }
    runbook
      .command('cancel <run>')
      .description('Cancel a queued or running run; whoever executes it stops')
      .action(async (id: string, _options: unknown, command: Command) => finish(await runCancel(id, command.optsWithGlobals<GlobalOptions>(), io)));
  },
};

async function runList(options: GlobalOptions, io: CliIo): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const runbooks = await loadRunbooksOrThrow(config.runbooks.folder, ACTIONS);
  const listed = runbooks.map((runbook) => ({ runbook, destructive: runbookMayBeDestructive(runbook, ACTIONS) }));
  if (options.json) writeJson(io.stdout, { runbooks: listed.map(({ runbook, destructive }) => runbookJson(runbook, destructive)) });
  else if (listed.length === 0) writeLine(io.stdout, `no runbooks in ${config.runbooks.folder}`);
  else for (const { runbook, destructive } of listed) for (const line of runbookLines(runbook, destructive)) writeLine(io.stdout, line);
  return 0;
}

async function runRuns(options: RunsOptions, io: CliIo): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    writeLine(io.stderr, `error: --limit must be a positive whole number, got ${JSON.stringify(options.limit)}`);
    return 2;
  }
  return withStateDatabase(options, io, async (state) => {
    const runs = await selectRecentRuns(state.pool, limit);
    if (options.json) writeJson(io.stdout, { runs: runs.map(runJson) });
    else if (runs.length === 0) writeLine(io.stdout, 'no runbook runs yet');
    else for (const run of runs) writeLine(io.stdout, runLine(run));
    return 0;
  });
}

/** The run, or undefined after saying it does not exist; ids that are not numbers exist nowhere. */
async function findRun(state: StateDatabase, id: string, io: CliIo): Promise<RunRow | undefined> {
  const run = /^\d{1,18}$/.test(id) ? await selectRun(state.pool, id) : undefined;
  if (run === undefined) writeLine(io.stderr, `error [run_not_found]: No runbook run #${id}. \`pipewarden runbook runs\` lists them.`);
  return run;
}

async function runShow(id: string, options: GlobalOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    const run = await findRun(state, id, io);
    if (run === undefined) return 1;
    const attempts = await selectAttempts(state.pool, run.id);
    if (options.json) {
      writeJson(io.stdout, { run: runJson(run), attempts: attempts.map(attemptJson) });
      return 0;
    }
    writeLine(io.stdout, runLine(run));
    writeLine(io.stdout, `  params: ${JSON.stringify(run.params)}${run.incident_id === null ? '' : `, incident #${run.incident_id}`}${run.current_step === null ? '' : `, at step ${run.current_step}`}`);
    for (const attempt of attempts) for (const line of attemptDetailLines(attempt)) writeLine(io.stdout, `  ${line}`);
    return 0;
  });
}

/** The run's `approve` steps, from the runbook text the run recorded. */
function approveSteps(run: RunRow): string[] {
  const checked = checkRunbookText(run.runbook_source, run.runbook_file, ACTIONS);
  return (checked.runbook?.steps ?? []).filter((step) => step.definition.action === 'approve').map((step) => step.definition.name);
}

async function runDecide(id: string, step: string, decision: ApprovalDecision, options: DecideOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    const run = await findRun(state, id, io);
    if (run === undefined) return 1;
    if (run.status !== 'queued' && run.status !== 'running') {
      writeLine(io.stderr, `error [run_ended]: run #${run.id} already ended (${run.status}); a decision would change nothing, so none was recorded`);
      return 1;
    }
    const steps = approveSteps(run);
    if (!steps.includes(step)) {
      writeLine(io.stderr, `error [approval_step_unknown]: run #${run.id} (${run.runbook}) has no approve step ${JSON.stringify(step)}; its approve steps are: ${steps.length === 0 ? '(none)' : steps.join(', ')}`);
      return 2;
    }
    const by = `cli:${userInfo().username}`;
    const now = io.now?.() ?? new Date();
    const stands = await decideApproval(state.pool, { runId: run.id, step, decision, by, comment: options.comment, now });
    const mine = stands.decided_by === by && stands.decision === decision && stands.decided_at.getTime() === now.getTime();
    if (mine) {
      writeLine(io.stdout, `step ${step} of run #${run.id} ${decision} by ${by}`);
      return 0;
    }
    writeLine(io.stdout, `step ${step} of run #${run.id} was already ${stands.decision} by ${stands.decided_by} at ${stands.decided_at.toISOString()}; that decision stands and nothing changed`);
    return stands.decision === decision ? 0 : 1;
  });
}

async function runCancel(id: string, options: GlobalOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    const run = await findRun(state, id, io);
    if (run === undefined) return 1;
    const by = `cli:${userInfo().username}`;
    const cancelled = await cancelRun(state.pool, run.id, `cancelled by ${by}`, io.now?.() ?? new Date());
    if (cancelled === undefined) {
      const ended = (await selectRun(state.pool, run.id)) ?? run;
      writeLine(io.stderr, `error [run_ended]: run #${run.id} already ended (${ended.status}); nothing to cancel`);
      return 1;
    }
    writeLine(io.stdout, `run #${run.id} cancelled${run.status === 'running' ? '; the process executing it stops at its next lease renewal or step' : ''}`);
    return 0;
  });
}
