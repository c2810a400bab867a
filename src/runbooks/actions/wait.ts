// The `wait` action: give a reload or a re-run time to land before the next step looks.
//
//   - name: let-it-land
//     action: wait
//     with: { for: 10m }
//
// The wait is measured from when the step first started, not from this attempt: a run resumed
// after a crash (or by another daemon) waits only what is left, so a restart never stretches a
// recovery past its deadline.

import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import { formatDuration } from '../../config/duration.ts';
import { sleep, StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';

/** setTimeout fires at once past ~24.8 days, so long waits sleep in slices and re-read the clock. */
const MAX_SLICE_MS = 60 * 60 * 1000;

export const waitInputSchema = z.strictObject({
  for: duration.describe('How long to wait, counted from when the step first started, e.g. "10m".'),
});

export type WaitInput = z.output<typeof waitInputSchema>;

async function waitFor(input: WaitInput, context: ActionContext): Promise<StepOutputs> {
  const until = context.stepStartedAt.getTime() + input.for;
  const waited = (): StepOutputs => ({ waited_ms: Math.max(0, context.now().getTime() - context.stepStartedAt.getTime()) });
  const remaining = (): number => until - context.now().getTime();
  while (remaining() > 0 && !context.signal.aborted) await sleep(Math.min(remaining(), MAX_SLICE_MS), context.signal);
  if (remaining() > 0) {
    throw new StepFailedError(`interrupted while waiting ${formatDuration(input.for)} (the step's deadline passed or the daemon is stopping)`, waited());
  }
  return waited();
}

export const waitAction: RunbookAction<WaitInput> = {
  name: 'wait',
  input: waitInputSchema,
  idempotent: true,
  destructive: false,
  run: waitFor,
};
