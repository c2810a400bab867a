// `notify`: a message about the run on its incident — the timeline and whichever of console and
// Slack the incident's notifications go to (through the outbox, so it is never lost). Without
// an incident (a run started by hand) it goes to the log.

import { z } from 'zod';
import type { RunbookAction } from '../action.ts';

const notifyInput = z.strictObject({
  text: z.string().min(1).describe('The message; `${…}` values are filled in.'),
});

export type NotifyInput = z.output<typeof notifyInput>;

export const notifyAction: RunbookAction<NotifyInput> = {
  name: 'notify',
  input: notifyInput,
  // A repeated message is noise, not harm.
  idempotent: true,
  destructive: false,
  async run(input, context) {
    await context.services.announce(input.text, { step: context.step });
    return { text: input.text };
  },
};
