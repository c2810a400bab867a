// `escalate`: page now, with what the run tried so far. The executor does the paging (once per
// run, through the same path as a failed run), so the page carries the run's whole record.

import { z } from 'zod';
import type { RunbookAction } from '../action.ts';

const escalateInput = z.strictObject({
  reason: z.string().min(1).optional().describe('One line for the page, e.g. "inventory feed still stale after reload".'),
});

export type EscalateInput = z.output<typeof escalateInput>;

export const escalateAction: RunbookAction<EscalateInput> = {
  name: 'escalate',
  input: escalateInput,
  // Pages share the incident's dedup key: a repeated trigger updates the same page.
  idempotent: true,
  destructive: false,
  async run(input, context) {
    return { escalated: true, reason: input.reason ?? `runbook ${context.runbook} escalated at step "${context.step}"` };
  },
};
