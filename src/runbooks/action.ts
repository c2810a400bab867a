// The contract every runbook action implements (one file per action under actions/). The
// executor binds a step's `with` (src/runbooks/bind-values.ts), parses it with the action's
// own zod schema, records it, then calls `run`. An action returns its outputs (visible to later
// steps as `${steps.NAME.…}`) or throws; a StepFailedError carries outputs too (exit code,
// output tail) so a failed attempt still leaves its evidence in the record.

import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import { RunbookError } from '../errors.ts';
import type { CheckKind, Finding } from '../types.ts';
import type { WarehouseWriter } from '../warehouse/warehouse-writer.ts';
import type { ActionName } from './runbook-schema.ts';

export type StepOutputs = Record<string, unknown>;

/** The asset a run is about, as runbooks see it under `${asset.…}`. */
export interface AssetInfo {
  key: string;
  /** For table assets (`warehouse.schema.table`): the parts, raw and unquoted. */
  warehouse?: string;
  schema?: string;
  table?: string;
  owner?: string;
  /** The dbt node this asset is, when a dbt manifest's lineage knows it: for `dbt` steps (`select: ["${asset.dbt.selector}+"]`). */
  dbt?: { unique_id: string; name: string; kind: string; selector: string };
}

export interface ProgressReport {
  done: number;
  total: number;
  /** One line a chat message can show, e.g. "backfill 3/7 days (2025-11-03 failed, retrying)". */
  message: string;
}

export interface ActionContext {
  runId: string;
  runbook: string;
  step: string;
  /** 1 for the first attempt of this step. */
  attempt: number;
  /** When the step's first attempt began: a resumed wait or approval keeps its original clock. */
  stepStartedAt: Date;
  asset: AssetInfo;
  finding?: Finding;
  incidentId?: string;
  /** Aborted when the step's timeout or the run's deadline passes, or the daemon shuts down. */
  signal: AbortSignal;
  logger: Logger;
  config: Config;
  /** The state database. */
  state: pg.Pool;
  now(): Date;
  reportProgress(progress: ProgressReport): Promise<void>;
  /** A transaction on a warehouse's `write_url`; throws a RunbookError when it has none. */
  warehouseWriter(warehouse: string): WarehouseWriter;
  /** What the pipewarden-facing actions (verify, notify, resolve, silence, approve) act through. */
  services: RunServices;
  /** Per-partition inner steps, recorded one by one (the backfill action). */
  partitions?: PartitionRunner;
}

export interface PartitionSpec {
  key: string;
  /** The end of a range partition, `${partition_end}`. */
  end?: string;
}

export interface InnerStepSpec {
  action: string;
  /** Unbound: placeholders are filled per partition. */
  with: Record<string, unknown>;
  retry?: { attempts: number; backoff: { initialMs: number; maxMs: number }; jitter: number } | undefined;
  timeout?: number | undefined;
}

export interface PartitionResult {
  status: 'succeeded' | 'failed';
  outputs: StepOutputs;
  error?: string;
}

export interface PartitionRunner {
  /** Keys of the partitions this step already finished, in this run or before a restart. */
  completed(): Promise<Set<string>>;
  run(partition: PartitionSpec, step: InnerStepSpec): Promise<PartitionResult>;
}

/** pipewarden's own machinery, as a run may use it. */
export interface RunServices {
  /** A real sweep or profile of one asset for these check kinds; the findings also feed its incidents. */
  evaluateChecks(asset: string, kinds: readonly CheckKind[], signal: AbortSignal): Promise<Finding[]>;
  /** A message on the run's incident (timeline, and the chat/console channels), or the log when it has none. */
  announce(text: string, detail?: Record<string, unknown>): Promise<void>;
  /** How far a long step has got, for the run's incident message (throttled; no timeline entry). */
  showProgress(step: string, progress: ProgressReport): Promise<void>;
  /** Resolves the run's incident; false when it has none or it already was resolved. */
  resolveIncident(by: string): Promise<boolean>;
  /** Creates a silence; returns its id. */
  silence(silence: { assets: string[]; checks: string[]; durationMs: number; reason: string; by: string }): Promise<string>;
  /** The decision on this run's approval step, once someone made one. */
  approval(step: string): Promise<{ decision: 'approved' | 'rejected'; by: string } | undefined>;
}

export interface RunbookAction<Input = unknown> {
  name: ActionName;
  /** Inputs after binding; parsed again at run time, and leniently (placeholders allowed) at load time. */
  input: z.ZodType<Input>;
  /**
   * Whether running the step twice does no harm. Decides what happens when a daemon died while
   * the step was in flight: an idempotent step is run again, any other stops the run and escalates.
   */
  idempotent: boolean | ((input: Input) => boolean);
  /** Changes data or state others rely on (rollback, backfill, SQL writes): needs a confirmed, privileged start. */
  destructive: boolean | ((input: Input) => boolean);
  /** Top-level `with` keys the executor leaves unbound (backfill's per-partition `step`). */
  deferred?: readonly string[];
  /** Checks that need more than the schema (e.g. no `${` in SQL text); return problems as messages. */
  checkDefinition?(withValue: Record<string, unknown>): string[];
  run(input: Input, context: ActionContext): Promise<StepOutputs>;
}

/** A step that ran and failed: the message says why; outputs keep the evidence. */
export class StepFailedError extends RunbookError {
  readonly outputs: StepOutputs;

  constructor(message: string, outputs: StepOutputs = {}, options?: { cause?: unknown }) {
    super('runbook_step_failed', message, options);
    this.outputs = outputs;
  }
}

export function isIdempotent<Input>(action: RunbookAction<Input>, input: Input): boolean {
  return typeof action.idempotent === 'function' ? action.idempotent(input) : action.idempotent;
}

export function isDestructive<Input>(action: RunbookAction<Input>, input: Input): boolean {
  return typeof action.destructive === 'function' ? action.destructive(input) : action.destructive;
}

/** Resolves when the signal aborts or the time passes, whichever is first; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A text input that also takes a number or true/false: `"${params.days}"` binds an int, and an
 * argv element, header or query value wants its text. Objects and lists are still refused.
 */
export const textInput = z.union([z.string(), z.number(), z.boolean()]).transform((value) => String(value));
