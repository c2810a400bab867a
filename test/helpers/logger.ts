import { pino } from 'pino';
import type { Logger } from 'pino';

/**
 * A logger for tests: silent unless PIPEWARDEN_TEST_LOG names a level (e.g. `debug`), so a
 * failing test can be rerun with the daemon's own logs on stderr.
 */
export function testLogger(): Logger {
  return pino({ level: process.env.PIPEWARDEN_TEST_LOG ?? 'silent' }, pino.destination(2));
}
