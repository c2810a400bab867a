// For commands that only need the state database (incidents, silences): the config, a small
// migrated pool, closed whatever happens.

import type { Config } from '../config/schema.ts';
import { migrate } from '../store/migrate.ts';
import { openStateDatabase, type StateDatabase } from '../store/state-database.ts';
import { cliLogger, loadCliConfig } from './cli-config.ts';
import type { CliIo, GlobalOptions } from './cli-io.ts';

export async function withStateDatabase(options: GlobalOptions, io: CliIo, work: (state: StateDatabase, config: Config) => Promise<number>): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const logger = cliLogger(config, io);
  const state = await openStateDatabase(config.state, logger, { maxConnections: 2, cwd: io.cwd });
  try {
    await migrate(state.pool, { schema: state.schema, logger });
    return await work(state, config);
  } finally {
    await state.close();
  }
}
