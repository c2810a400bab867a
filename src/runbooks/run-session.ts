// Everything one execution of a run carries: the run row, its compiled runbook, the daemon that
// holds it, the results so far (which later steps read as `${steps.NAME…}`), and one abort
// signal for the reasons a run stops from outside — shutdown, a lost lease, its deadline.

import type { Logger } from 'pino';
import { RunbookError } from '../errors.ts';
import type { NewAttempt, RunRow } from '../store/runbook-runs.ts';
import { insertAttempt, setRunProgress } from '../store/runbook-runs.ts';
import type { Finding } from '../types.ts';
import type { LineageNode } from '../lineage/lineage-graph.ts';
import type { ActionContext, AssetInfo, RunbookAction, RunServices } from './action.ts';
import type { LoadedRunbook, LoadedStep } from './loaded-runbook.ts';
import type { RunEnvironment } from './run-environment.ts';
import type { StepResult } from './step-attempts.ts';
import { LeaseLostError } from './step-attempts.ts';
import { stepVariables } from './run-history.ts';

export type StopReason = 'shutdown' | 'lease_lost' | 'deadline';

export class RunStoppedError extends Error {
  readonly reason: StopReason;

  constructor(reason: StopReason) {
    super(`run stopped: ${reason}`);
    this.reason = reason;
  }
}

export function assetInfo(key: string, owner?: string, lineage?: LineageNode | null): AssetInfo {
  const parts = key.split('.');
  const table = parts.length === 3 ? { warehouse: parts[0], schema: parts[1], table: parts[2] } : {};
  const dbt = lineage === null || lineage === undefined || lineage.kind === 'exposure' ? {} : { dbt: { unique_id: lineage.dbtUniqueId, name: lineage.name, kind: lineage.kind, selector: dbtSelector(lineage) } };
  return { key, ...table, ...(owner === undefined ? {} : { owner }), ...dbt };
}

/** How dbt's --select names the node: a model by its name, a source as `source:<source>.<table>`. */
function dbtSelector(node: LineageNode): string {
  return node.kind === 'source' ? `source:${node.dbtUniqueId.split('.').slice(2).join('.')}` : node.name;
}

export interface RunSubject {
  finding: unknown;
  asset: string;
  incidentId: string | null | undefined;
  params: Record<string, unknown>;
  /** `id` is missing while the run is only planned (`--dry-run`). */
  run: { id?: string; runbook: string; started_by: string };
  /** What the dbt lineage knows of the asset (selectLineageNode), for `asset.dbt`. */
  lineage?: LineageNode | null;
}

/** What a run's conditions and placeholders read, for the executor and the dry-run alike. */
export function runVariables(subject: RunSubject, runbooks: { vars: Record<string, string>; secrets: Record<string, string> }, steps: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    finding: subject.finding ?? {},
    asset: assetInfo(subject.asset, undefined, subject.lineage),
    incident: subject.incidentId === null || subject.incidentId === undefined ? {} : { id: subject.incidentId },
    params: subject.params,
    steps,
    run: subject.run,
    vars: runbooks.vars,
    secrets: runbooks.secrets,
  };
}

export class RunSession {
  readonly run: RunRow;
  readonly runbook: LoadedRunbook;
  readonly env: RunEnvironment;
  readonly owner: string;
  readonly logger: Logger;
  readonly results = new Map<string, StepResult>();
  /** People were paged during this run (an `escalate` step); the run's end does not page again. */
  escalated = false;
  currentStep: string | undefined;
  /** Whether the attempt running now may be cut short and repeated by the next daemon (undefined between attempts). */
  attemptIdempotent: boolean | undefined;
  private readonly controller = new AbortController();
  private readonly services: RunServices;
  private readonly progressSteps = new Set<string>();
  /** What the dbt lineage knows of the run's asset; loaded before the first step. */
  lineage: LineageNode | null = null;

  constructor(run: RunRow, runbook: LoadedRunbook, env: RunEnvironment, owner: string) {
    this.run = run;
    this.runbook = runbook;
    this.env = env;
    this.owner = owner;
    this.logger = env.logger.child({ run: run.id, runbook: run.runbook });
    this.services = env.services(run);
  }

  /** Inner steps (backfill partitions) in flight that are not safe to repeat. */
  unsafePartitions = 0;

  /** A shutdown may stop this run at once: nothing is running, or what runs is safe to repeat. */
  get interruptible(): boolean {
    return this.attemptIdempotent !== false && this.unsafePartitions === 0;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunStoppedError(reason));
  }

  get stopReason(): StopReason | undefined {
    const reason: unknown = this.controller.signal.reason;
    return reason instanceof RunStoppedError ? reason.reason : undefined;
  }

  throwIfStopped(): void {
    const reason = this.stopReason;
    if (reason !== undefined) throw new RunStoppedError(reason);
  }

  action(step: LoadedStep): RunbookAction<unknown> {
    const action = this.env.actions.get(step.definition.action);
    if (action === undefined) throw new RunbookError('runbook_action_missing', `step "${step.definition.name}": action ${step.definition.action} is not available in this build`);
    return action;
  }

  /** The CEL variables: what conditions and `${…}` placeholders can read. */
  variables(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const steps: Record<string, unknown> = {};
    for (const [name, result] of this.results) steps[name] = stepVariables(result.status, result.outputs, result.error);
    const { run } = this;
    const subject = { finding: run.finding, asset: run.asset, incidentId: run.incident_id, params: run.params, run: { id: run.id, runbook: run.runbook, started_by: run.started_by }, lineage: this.lineage };
    return { ...runVariables(subject, this.env.config.runbooks, steps), ...extra };
  }

  /** The progress gauge describes steps running now: a run leaving this daemon takes its series along. */
  clearProgress(): void {
    for (const step of this.progressSteps) this.env.metrics?.runbookProgress.remove({ runbook: this.run.runbook, run: this.run.id, step });
    this.progressSteps.clear();
  }

  async record(attempt: NewAttempt): Promise<void> {
    const id = await insertAttempt(this.env.pool, this.owner, attempt);
    if (id === undefined) throw new LeaseLostError(`run ${this.run.id} is no longer held by ${this.owner}`);
  }

  actionContext(step: LoadedStep, signal: AbortSignal, timing: { attempt: number; stepStartedAt: Date }): ActionContext {
    const name = step.definition.name;
    const metrics = this.env.metrics;
    return {
      runId: this.run.id,
      runbook: this.run.runbook,
      step: name,
      attempt: timing.attempt,
      stepStartedAt: timing.stepStartedAt,
      asset: assetInfo(this.run.asset, undefined, this.lineage),
      ...(this.run.finding === null ? {} : { finding: this.run.finding as unknown as Finding }),
      ...(this.run.incident_id === null ? {} : { incidentId: this.run.incident_id }),
      signal,
      logger: this.logger.child({ step: name }),
      config: this.env.config,
      state: this.env.pool,
      now: this.env.now,
      reportProgress: async (progress) => {
        this.progressSteps.add(name);
        metrics?.runbookProgress.set({ runbook: this.run.runbook, run: this.run.id, step: name }, progress.total === 0 ? 1 : progress.done / progress.total);
        this.logger.info({ step: name, done: progress.done, total: progress.total }, progress.message);
        await setRunProgress(this.env.pool, this.run.id, this.owner, name, progress);
        // The chat message is a view: a failure to queue its edit must not fail the step.
        await this.services.showProgress(name, progress).catch((error: unknown) => this.logger.warn({ err: error, step: name }, 'could not queue the progress update for the incident message'));
      },
      warehouseWriter: (warehouse) => this.env.writers.writer(warehouse),
      services: this.services,
    };
  }
}
