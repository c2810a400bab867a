// The runbook DSL as a zod schema: one YAML file is one runbook. The schema checks the shape;
// what it cannot see (CEL that does not parse, `${steps.X}` naming a later step, an action's own
// inputs) is checked by src/runbooks/load-runbooks.ts, so `pipewarden validate` reports both
// with file:line. `npm run docs:runbooks` publishes this schema as runbooks/schema.json.

import { z } from 'zod';
import { duration } from '../config/schema.ts';
import { parseDuration } from '../config/duration.ts';

export const ACTION_NAMES = [
  'command',
  'dbt',
  'sql',
  'http',
  'backfill',
  'publish',
  'rollback',
  'verify',
  'wait',
  'notify',
  'approve',
  'escalate',
  'resolve',
  'silence',
] as const;

export type ActionName = (typeof ACTION_NAMES)[number];

export const CHECK_KINDS = ['freshness', 'volume', 'distribution', 'schema', 'run'] as const;

const name = z
  .string({ error: 'expected a name' })
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name of lower-case letters, digits, "_" or "-" (it is used in `${steps.NAME}` and on the command line)');

const celExpression = z.string({ error: 'expected a CEL expression like "finding.status == \'fail\'"' }).min(1);

/** `30s..5m`: the first delay and the cap it doubles up to; a single duration caps at 10×. */
const backoff = z.string({ error: 'expected a backoff like "30s..5m"' }).transform((text, ctx) => {
  const [first, cap, extra] = text.split('..').map((part) => part.trim());
  const initial = first === undefined ? undefined : parseDuration(first);
  const max = cap === undefined ? (initial === undefined ? undefined : initial * 10) : parseDuration(cap);
  if (extra !== undefined || initial === undefined || max === undefined || initial <= 0 || max < initial) {
    ctx.addIssue({ code: 'custom', message: `expected a backoff like "30s..5m" (first delay..cap, cap at least the first delay), got "${text}"` });
    return z.NEVER;
  }
  return { initialMs: initial, maxMs: max };
});

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(100).describe('How many times the step may run in all (1 = no retry).'),
  backoff: backoff.prefault('10s..5m').describe('Delay before the 2nd attempt, doubling up to the cap: "INITIAL..CAP".'),
  jitter: z.number().min(0).max(1).default(0.5).describe('Share of each delay drawn at random (0 = none), so retries of many runs spread out.'),
});

export const ON_FAILURE = ['abort', 'continue', 'escalate'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];

export const stepSchema = z.strictObject({
  name: name.describe('Unique within the runbook; later steps read its outputs as `${steps.NAME.…}`.'),
  action: z.enum(ACTION_NAMES).describe('What the step does.'),
  with: z.record(z.string(), z.unknown()).default({}).describe("The action's inputs; values may use `${finding.…}`, `${asset.…}`, `${params.…}`, `${steps.NAME.…}`, `${secrets.NAME}`."),
  if: celExpression.optional().describe('CEL condition; the step is skipped when it is false.'),
  retry: retrySchema.optional().describe('Run the step again when it fails, with exponential backoff and jitter.'),
  timeout: duration.optional().describe('Kill the step after this long (counts as a failed attempt).'),
  on_failure: z.enum(ON_FAILURE).default('abort').describe('When the step fails for good: stop the run (`abort`), go on (`continue`), or page now and stop (`escalate`).'),
});

export const PARAM_TYPES = ['string', 'int', 'number', 'bool', 'duration'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export const paramSchema = z.strictObject({
  type: z.enum(PARAM_TYPES).default('string').describe('Value type; `--param` values on the command line are converted to it.'),
  default: z.union([z.string(), z.number(), z.boolean()]).optional().describe('Used when the run does not give the parameter; without one it is required.'),
  description: z.string().optional(),
});

export const matchSchema = z.strictObject({
  checks: z.array(z.enum(CHECK_KINDS)).min(1).optional().describe('Check kinds this runbook recovers. Default: every kind.'),
  assets: z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .describe('Asset key globs, e.g. `analytics.raw.inventory_*`. Default: every asset.'),
  when: celExpression.optional().describe('CEL condition over `finding`, `asset` and `incident`.'),
});

export const runbookSchema = z.strictObject({
  name: name.describe('The runbook name used by `pipewarden runbook run NAME`.'),
  description: z.string().optional(),
  match: matchSchema.optional().describe('Which incidents this runbook recovers by itself. Without it, the runbook only runs by hand.'),
  params: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a parameter name of lower-case letters, digits and "_"'), paramSchema).default({}),
  timeout: duration.prefault('1h').describe('The whole run must end within this long; past it, the run stops and escalates.'),
  steps: z.array(stepSchema).min(1).describe('Run in order.'),
});

export type RunbookDefinition = z.output<typeof runbookSchema>;
export type StepDefinition = z.output<typeof stepSchema>;
export type RetryPolicy = z.output<typeof retrySchema>;
export type ParamDefinition = z.output<typeof paramSchema>;
