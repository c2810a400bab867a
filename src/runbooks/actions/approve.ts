// `approve`: asks a person before the run goes on (typically before a rollback or a backfill).
// The request goes out like `notify`; the answer comes from `pipewarden runbook approve|reject`
// (and Slack's Approve / Reject buttons once the Slack app lands) into runbook_approvals. The
// step polls for it; when `timeout` passes without one, the declared `default` applies. A
// rejection fails the step, so `on_failure` decides what follows (by default the run stops).

import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { sleep, StepFailedError } from '../action.ts';

const approveInput = z.strictObject({
  message: z.string().min(1).describe('What is being asked, e.g. "Roll back top_items_not_carried to yesterday\'s version?"'),
  timeout: duration.prefault('30m').describe('How long to wait for a decision.'),
  default: z.enum(['approve', 'reject']).default('reject').describe('The decision when nobody answers in time.'),
  poll: duration.prefault('2s').describe('How often to look for a decision.'),
});

export type ApproveInput = z.output<typeof approveInput>;

async function awaitDecision(input: ApproveInput, context: ActionContext): Promise<StepOutputs> {
  // Asked once per step: a resumed wait (after a restart) does not ask again.
  if (context.attempt === 1 && context.now().getTime() - context.stepStartedAt.getTime() < input.poll) {
    await context.services.announce(
      `${input.message} — approve with \`pipewarden runbook approve ${context.runId} ${context.step}\` or reject with \`pipewarden runbook reject ${context.runId} ${context.step}\` (default in ${Math.round(input.timeout / 60_000)} min: ${input.default})`,
      { step: context.step, approval: 'requested' },
    );
  }
  const until = context.stepStartedAt.getTime() + input.timeout;
  while (!context.signal.aborted) {
    const decision = await context.services.approval(context.step);
    if (decision !== undefined) return announceDecision(context, decision.decision, decision.by);
    const left = until - context.now().getTime();
    if (left <= 0) return announceDecision(context, input.default === 'approve' ? 'approved' : 'rejected', 'timeout');
    await sleep(Math.min(input.poll, left), context.signal);
  }
  throw new StepFailedError('interrupted while waiting for a decision');
}

/** The decision goes to the incident too: the chat message drops its Approve / Reject buttons and the thread says who decided. */
async function announceDecision(context: ActionContext, decision: 'approved' | 'rejected', by: string): Promise<StepOutputs> {
  const who = by === 'timeout' ? 'nobody answered in time, so by default' : `by ${by}`;
  await context.services.announce(`step ${context.step} ${decision} ${who}`, { step: context.step, approval: decision, by });
  return decided(decision, by);
}

function decided(decision: 'approved' | 'rejected', by: string): StepOutputs {
  const outputs = { decision, by, outcome: decision };
  if (decision === 'rejected') throw new StepFailedError(by === 'timeout' ? 'nobody answered in time; the default is to reject' : `rejected by ${by}`, outputs);
  return outputs;
}

export const approveAction: RunbookAction<ApproveInput> = {
  name: 'approve',
  input: approveInput,
  idempotent: true,
  destructive: false,
  run: awaitDecision,
};
