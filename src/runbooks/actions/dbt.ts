// `dbt`: runs one dbt command in the configured project (`runbooks.dbt`), through the same
// process runner as `command`. Selectors often come from a finding (`${finding.asset}`), so
// argv is built element by element and no value may start with "-": dbt would read it as an
// option (`--select "--target=prod"` must not switch the target).

import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import type { Config } from '../../config/schema.ts';
import { checkExit, minimalEnvironment, runProcess } from './process-runner.ts';

export const DBT_COMMANDS = ['retry', 'build', 'run', 'test', 'seed', 'snapshot'] as const;

const OPTION_LIKE = 'starts with "-", so dbt would read it as an option rather than a value (a bound value must not be able to add options such as --target)';

const selector = z
  .string()
  .min(1, 'a selector cannot be empty')
  .refine((value) => !value.startsWith('-'), { error: (issue) => `"${String(issue.input)}" ${OPTION_LIKE}` })
  .refine((value) => !value.includes('\0'), 'a selector cannot contain a NUL character');

const PLACEHOLDER_FIRST = /^\s*\$\{/;

export const dbtInputSchema = z
  .strictObject({
    command: z.enum(DBT_COMMANDS).describe('The dbt command: build, run, test, seed, snapshot, or retry (re-runs what failed in the last invocation).'),
    select: z.array(selector).default([]).describe('Node selectors for --select, one per element (e.g. "orders+", "tag:inventory"); none may start with "-".'),
    exclude: z.array(selector).default([]).describe('Node selectors for --exclude; none may start with "-".'),
    full_refresh: z.boolean().default(false).describe('Pass --full-refresh: rebuilds incremental models from scratch, so the step counts as destructive.'),
    vars: z.record(z.string(), z.unknown()).optional().describe('Project variables, passed as one JSON --vars argument.'),
    args: z
      .array(z.string().refine((value) => !value.includes('\0'), 'an argument cannot contain a NUL character'))
      .default([])
      .describe('Extra dbt arguments, one element each, e.g. ["--threads", "4"]. A `${…}` value may only follow literal text in its element ("--threads=${params.threads}").'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name of letters, digits and "_"'), z.string())
      .default({})
      .describe('Environment variables for dbt (e.g. what profiles.yml reads with env_var()), on top of PATH, HOME, LANG and TZ.'),
  })
  .refine((input) => input.command !== 'retry' || (input.select.length === 0 && input.exclude.length === 0), {
    error: 'dbt retry re-runs what failed in the last invocation and takes no select/exclude; remove them or use command: build',
  });

export type DbtInput = z.output<typeof dbtInputSchema>;
type DbtProject = NonNullable<Config['runbooks']['dbt']>;

/**
 * `args` exist to pass options, so they may start with "-" — but only as the author wrote them.
 * An element that begins with a placeholder could become any option once bound; a placeholder
 * after literal text ("--threads=${…}") stays inside the author's option.
 */
export function checkDbtDefinition(withValue: Record<string, unknown>): string[] {
  const args = withValue.args;
  if (!Array.isArray(args)) return [];
  return args.flatMap((arg: unknown, index) =>
    typeof arg === 'string' && PLACEHOLDER_FIRST.test(arg)
      ? [`args[${index}]: "${arg}" begins with a placeholder, whose value could start with "-" and add any dbt option; write the option and value in one element, e.g. "--state=\${…}"`]
      : [],
  );
}

/** The arguments after the executable, each value its own element. */
export function buildDbtArgs(input: DbtInput, project: DbtProject): string[] {
  // The schema already refuses these; checked again because argv is where injection would land.
  const optionLike = [...input.select, ...input.exclude].find((value) => value.startsWith('-'));
  if (optionLike !== undefined) throw new StepFailedError(`dbt selector "${optionLike}" ${OPTION_LIKE}`);
  const args: string[] = [input.command, '--project-dir', project.project_dir];
  if (project.profiles_dir !== undefined) args.push('--profiles-dir', project.profiles_dir);
  if (project.target !== undefined) args.push('--target', project.target);
  if (input.select.length > 0) args.push('--select', ...input.select);
  if (input.exclude.length > 0) args.push('--exclude', ...input.exclude);
  if (input.full_refresh) args.push('--full-refresh');
  if (input.vars !== undefined) args.push('--vars', JSON.stringify(input.vars));
  return [...args, ...input.args];
}

function dbtProject(context: ActionContext): DbtProject {
  const project = context.config.runbooks.dbt;
  if (project === undefined) {
    throw new StepFailedError(
      `step "${context.step}" of runbook "${context.runbook}" runs dbt, but the config names no dbt project: add runbooks.dbt.project_dir (the folder with dbt_project.yml) to the config`,
    );
  }
  return project;
}

export interface DbtRunOptions {
  /** Between SIGTERM and SIGKILL when the step is stopped; tests shorten it. */
  killGraceMs?: number;
}

export async function runDbt(input: DbtInput, context: ActionContext, options: DbtRunOptions = {}): Promise<StepOutputs> {
  const project = dbtProject(context);
  // A path relative to where pipewarden runs; a bare name is looked up on PATH.
  const program = project.executable.includes('/') && !isAbsolute(project.executable) ? resolve(project.executable) : project.executable;
  const args = buildDbtArgs(input, project);
  context.logger.debug({ command: input.command }, 'dbt starting');
  const result = await runProcess({
    program,
    args,
    cwd: project.project_dir,
    env: minimalEnvironment(input.env),
    outputLines: 50,
    signal: context.signal,
    killGraceMs: options.killGraceMs,
    notFoundHint: 'Install dbt there or set runbooks.dbt.executable in the config to its path.',
  });
  context.logger.info({ command: input.command, exit_code: result.outputs.exit_code, duration_ms: result.outputs.duration_ms }, 'dbt finished');
  const outputs = { ...result.outputs, argv: [program, ...args] };
  return checkExit(`dbt ${input.command}`, { ...result, outputs }, [0]);
}

export const dbtAction: RunbookAction<DbtInput> = {
  name: 'dbt',
  input: dbtInputSchema,
  idempotent: true,
  destructive: (input) => input.full_refresh,
  checkDefinition: checkDbtDefinition,
  run: (input, context) => runDbt(input, context),
};
