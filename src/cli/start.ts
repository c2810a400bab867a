// `pipewarden start`: runs the daemon until SIGTERM/SIGINT. Resolves (so the CLI returns its
// exit code) only once the daemon has stopped: 0 when in-flight work finished, 1 when it had to
// be aborted at shutdown_timeout or when start-up failed. Logs are JSON lines on stdout.

import { Option, type Command } from 'commander';
import { loggingSchema } from '../config/schema.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { exitCodeFor, installSignalHandlers, startDaemon } from '../main.ts';
import { createLogger, flushLogger } from '../telemetry/logger.ts';
import { loadCliConfig } from './cli-config.ts';
import type { CliCommand, CliIo, GlobalOptions } from './cli-io.ts';

interface StartOptions extends GlobalOptions {
  logLevel?: string;
}

export const startCommand: CliCommand = {
  register(program, io, finish) {
    program
      .command('start')
      .description('Run the daemon: sweep on schedule, serve /healthz, /readyz and /metrics, stop gracefully on SIGTERM')
      .addOption(new Option('--log-level <level>', 'log level (overrides logging.level)').choices(loggingSchema.shape.level.unwrap().options))
      .action(async (_options: unknown, command: Command) => {
        finish(await runStart(command.optsWithGlobals<StartOptions>(), io));
      });
  },
};

async function runStart(options: StartOptions, io: CliIo): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const logger = createLogger({ level: options.logLevel ?? config.logging.level, destination: io.stdout });
  let daemon;
  try {
    daemon = await startDaemon({ config, env: io.env, logger });
  } catch (error) {
    const code = error instanceof PipewardenError ? error.code : 'start_failed';
    logger.fatal({ err: error, code }, `pipewarden could not start: ${errorMessage(error)}`);
    await flushLogger(logger);
    throw error;
  }
  const removeHandlers = installSignalHandlers(daemon, logger);
  try {
    return exitCodeFor(await daemon.stopped);
  } finally {
    removeHandlers();
  }
}
