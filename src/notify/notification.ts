// Where a notification about an asset goes: the owner's Slack channel and, for paging
// severities, PagerDuty (src/notify/routing.ts decides; the outbox carries it out).

export interface NotificationRoute {
  owner?: string;
  slackChannel?: string;
  /** Whether a PagerDuty routing key is configured for this owner (the key itself never travels). */
  pagerduty: boolean;
}
