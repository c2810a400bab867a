// node-cron's log lines routed into pino, so they are JSON and carry the component like the rest.

import type { Logger as CronLogger } from 'node-cron';
import type { Logger } from '../telemetry/logger.ts';

/** node-cron warns on every blocked tick; the scheduler already logs those itself. */
const OVERLAP_WARNING = 'task still running';

export function cronLogger(logger: Logger): CronLogger {
  const child = logger.child({ component: 'node-cron' });
  const log = (level: 'debug' | 'error', message: string | Error, error?: Error): void => {
    if (message instanceof Error) child[level]({ err: message }, message.message);
    else if (error) child[level]({ err: error }, message);
    else child[level](message);
  };
  return {
    info: (message) => child.info(message),
    warn: (message) => (message.startsWith(OVERLAP_WARNING) ? child.debug(message) : child.warn(message)),
    error: (message, error) => log('error', message, error),
    debug: (message, error) => log('debug', message, error),
  };
}
