// After a sweep: tell people about the checks whose status changed. A notifier that fails must
// not fail the sweep (its findings are already stored), so failures are logged and counted.

import type { Logger } from 'pino';
import type { SweepResult } from '../collect/sweep.ts';
import type { Config } from '../config/schema.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Notifier } from './notification.ts';
import { notificationsForChanges } from './status-changes.ts';

export interface AnnounceContext {
  config: Config;
  notifier: Notifier;
  logger: Logger;
  metrics: Metrics;
}

export async function announceStatusChanges(context: AnnounceContext, result: Pick<SweepResult, 'findings' | 'previousStatuses'>): Promise<number> {
  const notifications = notificationsForChanges(result.findings, result.previousStatuses, context.config);
  let sent = 0;
  for (const notification of notifications) {
    try {
      await context.notifier.send(notification);
      sent += 1;
    } catch (error) {
      context.metrics.loopErrors.inc({ loop: 'notify' });
      context.logger.error({ err: error, check: notification.check }, `sending a notification for ${notification.check} failed`);
    }
  }
  return sent;
}
