// `pipewarden runbook run NAME --asset KEY`: plans the run with the run's own values, and either
// prints that plan (`--dry-run`, which touches nothing), or queues the run and executes it here,
// like a daemon would: claimed under a lease this process renews, so a daemon resumes it if this
// process dies, and released on Ctrl-C for a daemon to finish. `--no-wait` leaves it to the daemon.

import { hostname, userInfo } from 'node:os';
import { errorMessage, RunbookError } from '../errors.ts';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import { executeRun, type RunEnd } from '../runbooks/execute-run.ts';
import { planRun } from '../runbooks/plan-run.ts';
import { runVariables, type RunSession } from '../runbooks/run-session.ts';
import { selectLineageNode } from '../store/lineage.ts';
import { openRunbookRuntime, type RunbookRuntime } from '../runbooks/runbook-runtime.ts';
import { resolveParams, startRun } from '../runbooks/start-run.ts';
import { openRuntime, type Runtime } from '../runtime.ts';
import { claimRun, renewLeases, selectActiveIncidentForAsset, selectAttempts, selectRun, type RunRow } from '../store/runbook-runs.ts';
import { cliLogger, loadCliConfig } from './cli-config.ts';
import { type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';
import { attemptLine, planJson, planLines, runJson, shownValue } from './runbook-format.ts';

export interface RunOptions extends GlobalOptions {
  asset: string;
  param: string[];
  dryRun?: boolean;
  yes?: boolean;
  wait: boolean;
}

const POLL_MS = 250;

/** `--param k=v` values as given (text); resolveParams converts them to the declared types. */
function parseParamOptions(values: readonly string[]): Record<string, string> | string {
  const params: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) return `--param expects NAME=VALUE, got ${JSON.stringify(value)}`;
    params[value.slice(0, at)] = value.slice(at + 1);
  }
  return params;
}

export async function runRunbook(name: string, options: RunOptions, io: CliIo): Promise<number> {
  const given = parseParamOptions(options.param);
  if (typeof given === 'string') {
    writeLine(io.stderr, `error: ${given}`);
    return 2;
  }
  const { config } = await loadCliConfig(options, io);
  const runtime = await openRuntime({ config, logger: cliLogger(config, io), ...(io.now ? { now: io.now } : {}) });
  try {
    const runbooks = await openRunbookRuntime(runtime, { owner: `cli:${hostname()}:${process.pid}` });
    try {
      return await planAndRun(runtime, runbooks, name, given, options, io);
    } finally {
      await runbooks.close();
    }
  } finally {
    await runtime.close();
  }
}

async function planAndRun(runtime: Runtime, runbooks: RunbookRuntime, name: string, given: Record<string, string>, options: RunOptions, io: CliIo): Promise<number> {
  const runbook = runbooks.find(name);
  if (runbook === undefined) {
    const names = runbooks.runbooks.map((loaded) => loaded.definition.name);
    writeLine(io.stderr, `error [runbook_not_found]: no runbook named ${JSON.stringify(name)} in ${runtime.config.runbooks.folder}; the runbooks are: ${names.length === 0 ? '(none)' : names.join(', ')}`);
    return 2;
  }
  let params: Record<string, unknown>;
  try {
    params = resolveParams(runbook, given);
  } catch (error) {
    if (!(error instanceof RunbookError)) throw error;
    writeLine(io.stderr, `error [${error.code}]: ${error.message}`);
    return 2;
  }
  // Started by hand on an asset with an incident: the run belongs to it and sees its finding.
  const incident = await selectActiveIncidentForAsset(runtime.state.pool, options.asset);
  const incidentId = incident?.id;
  const lineage = await selectLineageNode(runtime.state.pool, options.asset);
  const subject = { finding: incident?.finding, asset: options.asset, incidentId, params, run: { runbook: name, started_by: startedBy() }, lineage };
  const variables = runVariables(subject, runtime.config.runbooks);
  const plan = planRun(runbook, ACTIONS, variables);
  const context = { asset: options.asset, params, incidentId };
  if (options.dryRun) {
    if (options.json) writeJson(io.stdout, planJson(plan, context));
    else for (const line of planLines(plan, context)) writeLine(io.stdout, line);
    return 0;
  }
  if (plan.destructive && options.yes !== true) {
    const steps = plan.steps.filter((step) => step.mayRun && step.destructive.value).map((step) => step.name);
    writeLine(io.stderr, `error [runbook_needs_confirmation]: runbook ${name} is destructive (steps ${steps.join(', ')} change data or state others rely on). Review what it will do with \`pipewarden runbook run ${name} --asset ${shownValue(options.asset)} --dry-run\`, then pass --yes to start it.`);
    return 2;
  }
  const attached = incident === undefined ? {} : { incidentId: incident.id, finding: incident.finding };
  const run = await startRun(runtime.state.pool, runbook, { asset: options.asset, params, startedBy: startedBy(), now: runtime.now(), ...attached });
  if (!options.wait) {
    if (options.json) writeJson(io.stdout, { run: runJson(run) });
    else writeLine(io.stdout, `queued run #${run.id} of ${name}; the daemon (pipewarden start) will execute it. Follow it with \`pipewarden runbook show ${run.id}\`.`);
    return 0;
  }
  return executeHere(runtime, runbooks, run, options, io);
}

function startedBy(): string {
  return `cli:${userInfo().username}`;
}

/** Executes the queued run in this process, printing each attempt as it finishes; the exit code says how it ended. */
async function executeHere(runtime: Runtime, runbooks: RunbookRuntime, queued: RunRow, options: RunOptions, io: CliIo): Promise<number> {
  const owner = `cli:${hostname()}:${process.pid}`;
  const leaseMs = runtime.config.runbooks.lease;
  const claimed = await claimRun(runtime.state.pool, queued.id, owner, runtime.now(), leaseMs);
  if (claimed === undefined) {
    writeLine(io.stdout, `run #${queued.id} was picked up by a daemon before this process could start it; follow it with \`pipewarden runbook show ${queued.id}\``);
    return 0;
  }
  if (!options.json) writeLine(io.stdout, `run #${claimed.id} of ${claimed.runbook} started`);
  const printer = new AttemptPrinter(runtime, claimed.id, options.json === true ? undefined : io);
  const holder: { session?: RunSession } = {};
  const ctrlC = new GracefulStop(holder, claimed.id, io);
  // Renewed like the daemon's executor does; a lease this process cannot renew (the run was
  // cancelled, or a daemon took it over after a stall) stops the run here.
  const heartbeat = setInterval(() => {
    void renewLeases(runtime.state.pool, [claimed.id], owner, new Date(runtime.now().getTime() + leaseMs))
      .then((held) => (held.has(claimed.id) ? undefined : holder.session?.stop('lease_lost')))
      .catch((error: unknown) => runtime.logger.warn({ err: error }, `renewing the lease of run ${claimed.id} failed: ${errorMessage(error)}`));
  }, Math.max(50, Math.floor(leaseMs / 3)));
  const polling = setInterval(() => void printer.print().catch(() => undefined), POLL_MS);
  process.once('SIGINT', ctrlC.interrupt);
  let end: RunEnd;
  try {
    end = await executeRun(runbooks.environment, claimed, owner, (session) => (holder.session = session));
  } finally {
    process.off('SIGINT', ctrlC.interrupt);
    ctrlC.dispose();
    clearInterval(heartbeat);
    clearInterval(polling);
  }
  await printer.print();
  return report(runtime, claimed.id, end, options, io);
}

async function report(runtime: Runtime, id: string, end: RunEnd, options: RunOptions, io: CliIo): Promise<number> {
  const run = (await selectRun(runtime.state.pool, id)) as RunRow;
  if (options.json) {
    const attempts = await selectAttempts(runtime.state.pool, id);
    writeJson(io.stdout, { run: runJson(run), attempts: attempts.map((attempt) => ({ step: attempt.step, attempt: attempt.attempt, status: attempt.status, error: attempt.error })) });
  } else if (end.status === 'released' && run.status === 'running') {
    writeLine(io.stdout, `run #${id} stopped before it ended; it was released and a daemon (pipewarden start) resumes it. \`pipewarden runbook show ${id}\` shows where it stands.`);
  } else {
    writeLine(io.stdout, `run #${id} ${run.status}: ${shownValue(run.outcome ?? '')}`);
  }
  return run.status === 'succeeded' ? 0 : 1;
}

/** Prints each attempt once, when it has finished; prints are chained so none overlap or reorder. */
class AttemptPrinter {
  private readonly printed = new Set<string>();
  private last: Promise<void> = Promise.resolve();

  private readonly runtime: Runtime;
  private readonly runId: string;
  private readonly io: CliIo | undefined;

  constructor(runtime: Runtime, runId: string, io: CliIo | undefined) {
    this.runtime = runtime;
    this.runId = runId;
    this.io = io;
  }

  print(): Promise<void> {
    this.last = this.last.catch(() => undefined).then(() => this.printFinished());
    return this.last;
  }

  private async printFinished(): Promise<void> {
    if (this.io === undefined) return;
    for (const attempt of await selectAttempts(this.runtime.state.pool, this.runId)) {
      if (attempt.finished_at === null || this.printed.has(attempt.id)) continue;
      this.printed.add(attempt.id);
      writeLine(this.io.stdout, attemptLine(attempt));
    }
  }
}

/**
 * Ctrl-C as the daemon treats a shutdown: a run between steps, or in a step safe to repeat, stops
 * at once and is released for a daemon to resume; a step that is not safe to repeat is let finish
 * first (cut short, the next daemon would find it half-done and escalate). The handler then steps
 * aside, so a second Ctrl-C ends the process as usual and the run's lease lapses to a daemon.
 */
class GracefulStop {
  private readonly holder: { session?: RunSession };
  private readonly runId: string;
  private readonly io: CliIo;
  private waiting: NodeJS.Timeout | undefined;

  constructor(holder: { session?: RunSession }, runId: string, io: CliIo) {
    this.holder = holder;
    this.runId = runId;
    this.io = io;
  }

  readonly interrupt = (): void => {
    process.off('SIGINT', this.interrupt);
    const session = this.holder.session;
    if (session === undefined || session.interruptible) {
      writeLine(this.io.stderr, `stopping run #${this.runId} and releasing it for a daemon to resume (Ctrl-C again to quit at once)`);
      session?.stop('shutdown');
      return;
    }
    writeLine(this.io.stderr, `stopping run #${this.runId} once step ${session.currentStep ?? '?'} ends: it is not safe to repeat, so it is not cut short (Ctrl-C again to quit at once)`);
    // Polled: the session has no "between steps" event; idempotent steps (approvals, waits) last long enough to be seen.
    this.waiting = setInterval(() => {
      if (!session.interruptible) return;
      this.dispose();
      session.stop('shutdown');
    }, 20);
  };

  dispose(): void {
    if (this.waiting !== undefined) clearInterval(this.waiting);
    this.waiting = undefined;
  }
}
