// `resolve`: resolves the run's incident, recorded as resolved by this runbook. For recoveries
// the check itself cannot confirm soon (a daily table), after the runbook verified otherwise.

import { z } from 'zod';
import type { RunbookAction } from '../action.ts';

const resolveInput = z.strictObject({
  note: z.string().optional().describe('Why the runbook considers the incident resolved; kept on the timeline.'),
});

export type ResolveInput = z.output<typeof resolveInput>;

export const resolveAction: RunbookAction<ResolveInput> = {
  name: 'resolve',
  input: resolveInput,
  idempotent: true,
  destructive: false,
  async run(input, context) {
    const resolved = await context.services.resolveIncident(`runbook:${context.runbook}#${context.runId}`);
    if (input.note !== undefined) await context.services.announce(input.note, { step: context.step });
    return { resolved };
  },
};
