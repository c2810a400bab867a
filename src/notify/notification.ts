// A notification is what pipewarden tells people about a check: where it would go (the owner's
// Slack channel, PagerDuty) and the text. Notifiers deliver it; the console notifier prints it.

import type { FindingStatus } from '../types.ts';

export interface NotificationRoute {
  owner?: string;
  slackChannel?: string;
  /** Whether a PagerDuty routing key is configured for this owner (the key itself never travels). */
  pagerduty: boolean;
}

export interface Notification {
  check: string;
  asset: string;
  status: FindingStatus;
  /** The status of the previous evaluation; undefined when the check was never evaluated before. */
  previousStatus?: FindingStatus;
  route: NotificationRoute;
  text: string;
}

export interface Notifier {
  send(notification: Notification): Promise<void>;
}
