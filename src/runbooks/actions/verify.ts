// `verify`: re-evaluates the check that started the run — a real sweep or profile of the asset,
// whose findings also feed the incident — until it passes or `within` runs out. It never fails
// the step by itself: `outcome` is `passed` or `failed`, and the runbook decides what follows
// (`if: steps.verify.outcome != 'passed'`). Set `fail_step: true` to make a failed
// verification fail the step instead (so `on_failure` and `retry` apply).

import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import type { CheckKind, Finding } from '../../types.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { sleep, StepFailedError } from '../action.ts';
import { CHECK_KINDS } from '../runbook-schema.ts';

const verifyInput = z.strictObject({
  within: duration.prefault('10m').describe('Keep re-evaluating until this long after the step began.'),
  every: duration.prefault('30s').describe('Pause between evaluations.'),
  asset: z.string().optional().describe("The asset to evaluate. Default: the run's asset."),
  checks: z.array(z.enum(CHECK_KINDS)).min(1).optional().describe("Check kinds to evaluate. Default: the finding's kind, else every kind."),
  fail_step: z.boolean().default(false).describe('Fail the step (instead of only reporting `outcome: failed`) when the checks do not pass in time.'),
});

export type VerifyInput = z.output<typeof verifyInput>;

/** Passed means every relevant finding is ok; a check that cannot be measured has not passed. */
function passes(findings: readonly Finding[]): boolean {
  return findings.length > 0 && findings.every((finding) => finding.status === 'ok');
}

function kindsToVerify(input: VerifyInput, context: ActionContext): CheckKind[] {
  if (input.checks !== undefined) return input.checks;
  if (context.finding !== undefined) return [context.finding.kind];
  return [...CHECK_KINDS];
}

function relevant(findings: readonly Finding[], context: ActionContext, asset: string): Finding[] {
  const triggering = context.finding?.check;
  const sameCheck = triggering === undefined ? [] : findings.filter((finding) => finding.check === triggering);
  return sameCheck.length > 0 ? sameCheck : findings.filter((finding) => finding.asset === asset);
}

async function verify(input: VerifyInput, context: ActionContext): Promise<StepOutputs> {
  const asset = input.asset ?? context.asset.key;
  const kinds = kindsToVerify(input, context);
  const until = context.stepStartedAt.getTime() + input.within;
  let evaluations = 0;
  let latest: Finding[];
  do {
    latest = relevant(await context.services.evaluateChecks(asset, kinds, context.signal), context, asset);
    evaluations += 1;
    if (passes(latest)) return { outcome: 'passed', evaluations, findings: latest };
    await sleep(Math.min(input.every, until - context.now().getTime()), context.signal);
  } while (context.now().getTime() < until && !context.signal.aborted);
  const outputs = { outcome: 'failed', evaluations, findings: latest };
  if (input.fail_step) throw new StepFailedError(describeFailure(latest, asset), outputs);
  return outputs;
}

function describeFailure(findings: readonly Finding[], asset: string): string {
  if (findings.length === 0) return `no check of ${asset} could be evaluated; is it monitored?`;
  return `still failing: ${findings.filter((finding) => finding.status !== 'ok').map((finding) => finding.message).join('; ')}`;
}

export const verifyAction: RunbookAction<VerifyInput> = {
  name: 'verify',
  input: verifyInput,
  idempotent: true,
  destructive: false,
  run: verify,
};
