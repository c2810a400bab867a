// `command`: runs one program with an argv list, never through a shell, so values bound from a
// finding stay single arguments. The program gets a minimal environment (PATH, HOME, LANG, TZ
// and the step's `env`), not the daemon's own, which holds its secrets.

import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { textInput } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';
import { checkExit, minimalEnvironment, runProcess } from './process-runner.ts';

const noNul = (text: string): boolean => !text.includes('\0');

export const commandInputSchema = z.strictObject({
  argv: z
    .array(textInput.refine(noNul, 'an argument cannot contain a NUL character'))
    .min(1, 'argv needs at least the program to run')
    .refine((argv) => argv[0] !== '', 'argv[0] (the program) is empty')
    .describe('The program and its arguments, one element each; no shell. argv[0] is looked up on PATH, or, when it contains a "/", relative to the runbooks folder.'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name of letters, digits and "_"'), textInput.refine(noNul, 'a value cannot contain a NUL character'))
    .default({})
    .describe('Environment variables for the program, on top of PATH, HOME, LANG and TZ (the only ones it inherits from pipewarden).'),
  cwd: z.string().optional().describe('Working folder; a relative one is resolved against the runbooks folder. Default: the runbooks folder.'),
  success_codes: z.array(z.number().int().min(0).max(255)).min(1).default([0]).describe('Exit codes that count as success.'),
  output_lines: z.number().int().min(0).max(1000).default(50).describe('How many of the last lines of stdout and of stderr to keep in the step outputs.'),
  idempotent: z
    .boolean()
    .default(false)
    .describe('The program is safe to run again after a daemon died mid-step (it re-does, not repeats, its work). When false, such a run stops and escalates instead.'),
});

export type CommandInput = z.output<typeof commandInputSchema>;

/** A name is looked up on PATH; anything with a "/" is a path from the runbooks folder. */
export function resolveProgram(program: string, runbooksFolder: string): string {
  return program.includes('/') && !isAbsolute(program) ? resolve(runbooksFolder, program) : program;
}

export interface CommandRunOptions {
  /** Between SIGTERM and SIGKILL when the step is stopped; tests shorten it. */
  killGraceMs?: number;
}

export async function runCommand(input: CommandInput, context: ActionContext, options: CommandRunOptions = {}): Promise<StepOutputs> {
  const folder = context.config.runbooks.folder;
  const [first, ...args] = input.argv as [string, ...string[]];
  const program = resolveProgram(first, folder);
  const env = minimalEnvironment(input.env);
  context.logger.debug({ program: first }, 'command starting');
  const result = await runProcess({
    program,
    args,
    cwd: input.cwd === undefined ? folder : resolve(folder, input.cwd),
    env,
    outputLines: input.output_lines,
    signal: context.signal,
    killGraceMs: options.killGraceMs,
    notFoundHint: first.includes('/')
      ? `A program path with a "/" is resolved against the runbooks folder (${folder}).`
      : 'A program name without a "/" is looked up on PATH; give a path (e.g. ./bin/NAME, relative to the runbooks folder) for a script.',
  });
  context.logger.info({ program: first, exit_code: result.outputs.exit_code, signal: result.outputs.signal, duration_ms: result.outputs.duration_ms }, 'command finished');
  return checkExit(`"${first}"`, result, input.success_codes);
}

export const commandAction: RunbookAction<CommandInput> = {
  name: 'command',
  input: commandInputSchema,
  idempotent: (input) => input.idempotent,
  destructive: false,
  run: (input, context) => runCommand(input, context),
};
