// `silence`: quiets notifications for the asset (or given assets and checks) for a while — e.g.
// while a backfill rewrites a week of data and every check on it will look odd.

import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import type { RunbookAction } from '../action.ts';

const silenceInput = z.strictObject({
  for: duration.describe('How long the silence lasts.'),
  assets: z.array(z.string().min(1)).optional().describe("Asset globs. Default: the run's asset."),
  checks: z.array(z.string().min(1)).default([]).describe('Check id globs, e.g. `volume:*`. Default: every check of the assets.'),
  reason: z.string().min(1).optional().describe('Shown with every notification the silence holds back.'),
});

export type SilenceInput = z.output<typeof silenceInput>;

export const silenceAction: RunbookAction<SilenceInput> = {
  name: 'silence',
  input: silenceInput,
  // A second silence over the same window changes nothing anyone sees.
  idempotent: true,
  destructive: false,
  async run(input, context) {
    const assets = input.assets ?? [context.asset.key];
    const id = await context.services.silence({
      assets,
      checks: input.checks,
      durationMs: input.for,
      reason: input.reason ?? `runbook ${context.runbook} run #${context.runId}, step "${context.step}"`,
      by: `runbook:${context.runbook}#${context.runId}`,
    });
    return { silence: id, until: new Date(context.now().getTime() + input.for).toISOString() };
  },
};
