// Runbooks wired to the rest of pipewarden, for the daemon and the CLI alike: the runbooks read
// from `runbooks.folder`, the policy that matches them to incidents, the executor loop, and the
// environment every run executes in (warehouse writers, the check evaluator verify uses, paging
// on failure through the incident's outbox).

import { applyFindings } from '../incidents/apply-findings.ts';
import { concludeRun, escalateRun } from '../incidents/recovery-outcome.ts';
import type { RecoveryOutcomeContext } from '../incidents/recovery-outcome.ts';
import type { RecoveryPolicy } from '../incidents/recovery.ts';
import { runProfile } from '../collect/profile.ts';
import { runSweep } from '../collect/sweep.ts';
import { formatProblem, RunbookError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { CheckKind, Finding } from '../types.ts';
import { createWarehouseWriters } from '../warehouse/postgres-writer.ts';
import { ACTIONS } from './actions/registry.ts';
import type { ActionRegistry } from './load-runbooks.ts';
import { checkRunbookText, loadRunbooksOrThrow } from './load-runbooks.ts';
import type { LoadedRunbook } from './loaded-runbook.ts';
import { matchRunbook } from './match-runbooks.ts';
import type { RunEnvironment } from './run-environment.ts';
import { RunExecutor } from './run-executor.ts';
import { runServices } from './run-services.ts';

export interface RunbookRuntime {
  runbooks: readonly LoadedRunbook[];
  recovery: RecoveryPolicy;
  environment: RunEnvironment;
  executor: RunExecutor;
  find(name: string): LoadedRunbook | undefined;
  close(): Promise<void>;
}

export interface RunbookRuntimeOptions {
  /** This process's identity in run leases. */
  owner: string;
  /** Asks the outbox to deliver now (after a page or a note was queued). */
  wakeOutbox?: () => void;
  actions?: ActionRegistry;
}

const PROFILE_KINDS: readonly CheckKind[] = ['volume', 'distribution'];
const SWEEP_KINDS: readonly CheckKind[] = ['freshness', 'schema', 'volume'];

export async function openRunbookRuntime(runtime: Runtime, options: RunbookRuntimeOptions): Promise<RunbookRuntime> {
  const { config, logger } = runtime;
  const actions = options.actions ?? ACTIONS;
  const runbooks = await loadRunbooksOrThrow(config.runbooks.folder, actions);
  const recovery: RecoveryPolicy = { runbookFor: (subject) => matchRunbook(runbooks, subject, logger) };
  const writers = createWarehouseWriters(config, logger);
  const outcomes: RecoveryOutcomeContext = { pool: runtime.state.pool, config, logger, metrics: runtime.metrics, now: runtime.now, ...(options.wakeOutbox ? { wake: options.wakeOutbox } : {}) };
  const executor: { loop?: RunExecutor } = {};

  async function evaluateChecks(asset: string, kinds: readonly CheckKind[], signal: AbortSignal): Promise<Finding[]> {
    const findings: Finding[] = [];
    if (kinds.some((kind) => SWEEP_KINDS.includes(kind))) findings.push(...(await runSweep(runtime.sweepContext(), signal, { select: asset })).findings);
    if (kinds.some((kind) => PROFILE_KINDS.includes(kind))) findings.push(...(await runProfile(runtime.sweepContext(), signal, { select: asset })).findings);
    const applied = await applyFindings(runtime.state.pool, config, findings, runtime.now(), recovery);
    if (applied.queued > 0) options.wakeOutbox?.();
    if (applied.runsStarted > 0) executor.loop?.wake();
    return findings.filter((finding) => finding.asset === asset && kinds.includes(finding.kind));
  }

  const environment: RunEnvironment = {
    pool: runtime.state.pool,
    config,
    logger,
    metrics: runtime.metrics,
    now: runtime.now,
    actions,
    writers,
    compile: (run) => compileRecorded(run.runbook_source, run.runbook_file, actions),
    escalate: (run, reason) => escalateRun(outcomes, run, reason),
    finished: (run, status) => concludeRun(outcomes, run, status),
    services: (run) => runServices({ pool: runtime.state.pool, config, logger, now: runtime.now, evaluateChecks, ...(options.wakeOutbox ? { wake: options.wakeOutbox } : {}) }, run),
  };
  executor.loop = new RunExecutor(environment, { owner: options.owner, concurrency: config.runbooks.concurrency, leaseMs: config.runbooks.lease });
  return {
    runbooks,
    recovery,
    environment,
    executor: executor.loop,
    find: (name) => runbooks.find((runbook) => runbook.definition.name === name),
    close: () => writers.close(),
  };
}

/** A run follows the runbook text it recorded when it started, whatever the file says now. */
function compileRecorded(source: string, file: string, actions: ActionRegistry): LoadedRunbook {
  const checked = checkRunbookText(source, file, actions);
  if (checked.runbook === undefined) {
    throw new RunbookError('runbook_recorded_invalid', `the runbook text recorded for this run no longer loads: ${checked.problems.map(formatProblem).join('; ')}`);
  }
  return checked.runbook;
}
