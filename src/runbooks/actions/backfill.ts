// `backfill`: one inner step per partition — the missing days of a feed, say — with bounded
// concurrency. Every partition's attempts are recorded on their own (runbook_step_attempts with
// the partition's key), so a run resumed after a crash does only the partitions not yet done; a
// partition whose inner action was in flight is redone only if that action is idempotent.
// Progress (done/total) goes to the log, the run's progress column (chat shows it) and the
// pipewarden_runbook_progress_ratio metric.
//
// The inner step's `with` is bound per partition, with `${partition}` (and `${partition_end}`
// for ranges) added to the usual values; the executor leaves `step` unbound for that reason.

import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import { RunbookError } from '../../errors.ts';
import type { ActionContext, PartitionSpec, RunbookAction, StepOutputs } from '../action.ts';
import { StepFailedError } from '../action.ts';
import { ACTION_NAMES, retrySchema } from '../runbook-schema.ts';

/** Actions that make sense per partition; waiting for people or paging per day does not. */
const INNER_ACTIONS = ACTION_NAMES.filter((name) => !['backfill', 'approve', 'escalate', 'resolve', 'verify'].includes(name));

const MAX_PARTITIONS = 1_000;

const innerStep = z.strictObject({
  action: z.enum(INNER_ACTIONS as unknown as [string, ...string[]]).describe('The action run for each partition.'),
  with: z.record(z.string(), z.unknown()).default({}).describe('Its inputs; `${partition}` is the partition being filled.'),
  retry: retrySchema.optional(),
  timeout: duration.optional(),
});

const range = z.strictObject({
  from: z.string().describe('First partition start, an ISO date or timestamp (inclusive).'),
  to: z.string().describe('Last partition start (inclusive).'),
  every: duration.prefault('1d').describe('Partition width.'),
});

const backfillInput = z
  .strictObject({
    partitions: z.array(z.union([z.string(), z.number()])).max(MAX_PARTITIONS).optional().describe('The partition keys, e.g. `${finding.missing_days}` or a list of dates.'),
    range: range.optional().describe('A range of partitions instead of a list.'),
    concurrency: z.number().int().min(1).max(16).default(2).describe('Partitions filled at the same time.'),
    max_failures: z.number().int().min(0).default(0).describe('Failed partitions tolerated before the rest are not started.'),
    step: innerStep.describe('The step run once per partition.'),
  })
  .refine((input) => (input.partitions === undefined) !== (input.range === undefined), { error: 'give either `partitions` or `range`, not both and not neither' });

export type BackfillInput = z.output<typeof backfillInput>;
export type InnerStep = z.output<typeof innerStep>;

type Partition = PartitionSpec;

const DAY_MS = 86_400_000;

export function expandRange(spec: NonNullable<BackfillInput['range']>): Partition[] {
  const from = Date.parse(spec.from);
  const to = Date.parse(spec.to);
  if (Number.isNaN(from) || Number.isNaN(to)) throw new StepFailedError(`range.from and range.to must be ISO dates or timestamps, got "${spec.from}" and "${spec.to}"`);
  if (to < from) throw new StepFailedError(`range.to (${spec.to}) is before range.from (${spec.from})`);
  const count = Math.floor((to - from) / spec.every) + 1;
  if (count > MAX_PARTITIONS) throw new StepFailedError(`the range holds ${count} partitions; at most ${MAX_PARTITIONS} per backfill step`);
  // Whole days from a plain date stay plain dates: that is how people and partitioned tables name them.
  const plainDates = /^\d{4}-\d{2}-\d{2}$/.test(spec.from) && spec.every % DAY_MS === 0;
  const format = (ms: number): string => (plainDates ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString());
  return Array.from({ length: count }, (_, index) => ({ key: format(from + index * spec.every), end: format(from + (index + 1) * spec.every) }));
}

function partitionsOf(input: BackfillInput): Partition[] {
  const partitions = input.range !== undefined ? expandRange(input.range) : (input.partitions ?? []).map((key) => ({ key: String(key) }));
  const keys = new Set<string>();
  for (const partition of partitions) {
    if (partition.key === '') throw new StepFailedError('a partition key is empty');
    if (keys.has(partition.key)) throw new StepFailedError(`partition "${partition.key}" is listed twice`);
    keys.add(partition.key);
  }
  return partitions;
}

async function backfill(input: BackfillInput, context: ActionContext): Promise<StepOutputs> {
  const partitions = partitionsOf(input);
  const runner = context.partitions;
  if (runner === undefined) throw new RunbookError('runbook_backfill_unavailable', 'this executor cannot run partitions');
  const done = await runner.completed();
  const pending = partitions.filter((partition) => !done.has(partition.key));
  const failed: { partition: string; error: string }[] = [];
  let finished = partitions.length - pending.length;
  const report = (): Promise<void> =>
    context.reportProgress({ done: finished, total: partitions.length, message: `backfill ${finished}/${partitions.length} partitions${failed.length > 0 ? `, ${failed.length} failed` : ''}` });
  await report();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length && failed.length <= input.max_failures && !context.signal.aborted) {
      const partition = pending[next++] as Partition;
      const result = await runner.run(partition, input.step);
      if (result.status === 'failed') failed.push({ partition: partition.key, error: result.error ?? 'failed' });
      else finished += 1;
      await report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, pending.length) }, worker));
  const outputs = { total: partitions.length, done: finished, skipped_already_done: partitions.length - pending.length, failed };
  if (failed.length > input.max_failures || finished + failed.length < partitions.length) {
    const list = failed.slice(0, 5).map((failure) => `${failure.partition} (${failure.error})`).join('; ');
    throw new StepFailedError(`${finished} of ${partitions.length} partitions done; failed: ${list || 'none, but the step was stopped'}`, outputs);
  }
  return outputs;
}

export const backfillAction: RunbookAction<BackfillInput> = {
  name: 'backfill',
  input: backfillInput,
  deferred: ['step'],
  // Partitions are recorded one by one; repeating the step resumes where it stopped, and an
  // inner step that was in flight is judged by its own idempotency.
  idempotent: true,
  destructive: true,
  run: backfill,
};
