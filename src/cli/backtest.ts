// `pipewarden backtest`: replays stored history with the current settings and lists what would
// have alerted over the last days, so sensitivity and minimum changes can be tuned before paging
// is enabled. A report, not a gate: exit 0 whatever it finds (2 on config errors, as everywhere).
// It reads only the state DB — not even the warehouse's catalog (see collect/backtest.ts).

import { type Command, InvalidArgumentError } from 'commander';
import { runBacktest } from '../collect/backtest.ts';
import { migrate } from '../store/migrate.ts';
import { openStateDatabase } from '../store/state-database.ts';
import { printBacktest, writeBacktestJson } from './backtest-report.ts';
import { cliLogger, loadCliConfig } from './cli-config.ts';
import type { CliCommand, CliIo, GlobalOptions } from './cli-io.ts';

interface BacktestOptions extends GlobalOptions {
  select?: string;
  days: number;
}

export const DEFAULT_BACKTEST_DAYS = 14;

const HELP_AFTER = `
Reads only the state database: stored observations, update times, findings and expected marks,
and the last sweep's catalog snapshot (table_state) for the table names monitors match. It works
while the warehouse is down; tables no sweep has recorded yet are not included.`;

export const backtestCommand: CliCommand = {
  register(program, io, finish) {
    program
      .command('backtest')
      .description('Replay stored history with the current settings and list what would have alerted')
      .option('-s, --select <glob>', 'only assets matching this glob, e.g. "analytics.raw.*"')
      .option('-d, --days <n>', 'how many days back to replay', parseDays, DEFAULT_BACKTEST_DAYS)
      .option('--json', 'print alerts and summary as JSON')
      .addHelpText('after', HELP_AFTER)
      .action(async (_options: unknown, command: Command) => {
        finish(await runBacktestCommand(command.optsWithGlobals<BacktestOptions>(), io));
      });
  },
};

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError('expected a whole number of days, at least 1');
  return days;
}

async function runBacktestCommand(options: BacktestOptions, io: CliIo): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const logger = cliLogger(config, io);
  const state = await openStateDatabase(config.state, logger, { maxConnections: 4, cwd: io.cwd });
  try {
    await migrate(state.pool, { schema: state.schema, logger });
    const now = io.now?.() ?? new Date();
    const result = await runBacktest(state.pool, config, { ...(options.select ? { select: options.select } : {}), days: options.days, now });
    if (options.json) writeBacktestJson(io, result, options.days);
    else printBacktest(io, result, options.days, config.schedule.timezone);
    return 0;
  } finally {
    await state.close();
  }
}
