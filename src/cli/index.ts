// The `pipewarden` command line. Each command is one file exporting a CliCommand; this file only
// lists them, so a later command is one new file plus one line here.

import { Command, CommanderError } from 'commander';
import { readEnvironment } from '../config/environment.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { ACTIONS } from '../runbooks/actions/registry.ts';
import { runbookValidator } from '../runbooks/load-runbooks.ts';
import { PIPEWARDEN_VERSION } from '../version.ts';
import type { CliCommand, CliIo } from './cli-io.ts';
import { DEFAULT_CONFIG_PATH } from './cli-io.ts';
import { backtestCommand } from './backtest.ts';
import { checkCommand } from './check.ts';
import { demoCommand } from './demo.ts';
import { incidentsCommand } from './incidents.ts';
import { migrateCommand } from './migrate.ts';
import { runbookCommand } from './runbook.ts';
import { silencesCommand } from './silences.ts';
import { startCommand } from './start.ts';
import { createValidateCommand } from './validate.ts';

const validateCommand = createValidateCommand([runbookValidator(ACTIONS)]);

const COMMANDS: readonly CliCommand[] = [startCommand, checkCommand, backtestCommand, incidentsCommand, silencesCommand, runbookCommand, validateCommand, migrateCommand, demoCommand];

export function buildProgram(io: CliIo, finish: (exitCode: number) => void): Command {
  const program = new Command('pipewarden')
    .description('The on-call engineer for a data platform: watches a warehouse and its pipelines, recovers, and pages only when recovery fails.')
    .version(PIPEWARDEN_VERSION)
    .option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  for (const command of COMMANDS) command.register(program, io, finish);
  return program;
}

/** Runs the CLI and resolves to the exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const fullIo: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? readEnvironment(),
    cwd: io?.cwd ?? process.cwd(),
    now: io?.now ?? (() => new Date()),
  };
  let exitCode = 0;
  const program = buildProgram(fullIo, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const prefix = error instanceof PipewardenError ? `error [${error.code}]` : 'error';
    fullIo.stderr.write(`${prefix}: ${errorMessage(error)}\n`);
    return error instanceof PipewardenError && error.code === 'config_invalid' ? 2 : 1;
  }
}
