// Config loading and logging shared by the one-shot commands (check, migrate, …): the config path
// resolves against the working directory, and logs go to stderr so stdout stays scriptable.

import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type LoadedConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../telemetry/logger.ts';
import type { CliIo, GlobalOptions } from './cli-io.ts';

export function loadCliConfig(options: GlobalOptions, io: CliIo): Promise<LoadedConfig> {
  return loadConfig(path.resolve(io.cwd, options.config), io.env);
}

/** One-shot commands log warnings and worse to stderr; `info` chatter would bury the answer. */
export function cliLogger(config: Config, io: CliIo): Logger {
  const level = config.logging.level === 'info' ? 'warn' : config.logging.level;
  return createLogger({ level, destination: io.stderr });
}
