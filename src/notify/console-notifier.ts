// Without Slack or PagerDuty credentials (the demo, a first run) notifications go to the log:
// one line saying what would have been sent, and where, so the behaviour is visible before any
// integration is set up.

import type { Logger } from 'pino';
import type { Notification, Notifier } from './notification.ts';

export class ConsoleNotifier implements Notifier {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ notifier: 'console' });
  }

  async send(notification: Notification): Promise<void> {
    const fields = { asset: notification.asset, check: notification.check, status: notification.status, route: notification.route };
    const line = `notification ${destinations(notification)}: ${notification.text}`;
    if (notification.status === 'ok') this.logger.info(fields, line);
    else this.logger.warn(fields, line);
  }
}

function destinations(notification: Notification): string {
  const { route } = notification;
  const targets: string[] = [];
  if (route.slackChannel !== undefined) targets.push(`Slack ${route.slackChannel}`);
  if (route.pagerduty && (notification.status === 'fail' || notification.previousStatus === 'fail')) targets.push('PagerDuty');
  const owner = route.owner === undefined ? 'no owner' : `owner ${route.owner}`;
  return targets.length === 0 ? `(${owner}; no channel configured)` : `for ${targets.join(' and ')} (${owner})`;
}
