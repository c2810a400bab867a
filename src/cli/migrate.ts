// `pipewarden migrate`: brings the state database up to date and says what it did. The daemon
// migrates on start as well; this command is for doing it ahead of a deploy, or checking that a
// state database is usable. `--json` prints { applied: ["0001_initial", …], current: N }.

import type { Command } from 'commander';
import { errorMessage, StateError } from '../errors.ts';
import { migrate, type MigrateResult } from '../store/migrate.ts';
import { openStateDatabase } from '../store/state-database.ts';
import { cliLogger, loadCliConfig } from './cli-config.ts';
import { type CliCommand, type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';

export const migrateCommand: CliCommand = {
  register(program, io, finish) {
    program
      .command('migrate')
      .description('Apply pending migrations to the state database')
      .option('--json', 'print the result as JSON')
      .action(async (_options: unknown, command: Command) => {
        finish(await runMigrate(command.optsWithGlobals<GlobalOptions>(), io));
      });
  },
};

async function runMigrate(options: GlobalOptions, io: CliIo): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const logger = cliLogger(config, io);
  try {
    // One connection is all migrating needs; it holds the advisory lock throughout.
    const state = await openStateDatabase(config.state, logger, { maxConnections: 2, cwd: io.cwd });
    try {
      const result = await migrate(state.pool, { schema: state.schema, logger });
      printResult(io, options, result, state.location, state.schema);
      return 0;
    } finally {
      await state.close();
    }
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    if (options.json) writeJson(io.stdout, { error: { code: error.code, message: errorMessage(error) } });
    writeLine(io.stderr, `error [${error.code}]: ${errorMessage(error)}`);
    return 1;
  }
}

function printResult(io: CliIo, options: GlobalOptions, result: MigrateResult, location: string, schema: string): void {
  if (options.json) {
    writeJson(io.stdout, result);
    return;
  }
  for (const name of result.applied) writeLine(io.stdout, `applied ${name}`);
  const where = `${location} (schema ${schema})`;
  if (result.applied.length === 0) writeLine(io.stdout, `up to date at version ${result.current}: ${where}`);
  else writeLine(io.stdout, `now at version ${result.current}: ${where}`);
}
