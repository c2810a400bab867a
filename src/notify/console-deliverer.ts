// The console channel: without Slack or PagerDuty credentials (the demo, a first run) every
// incident change is one log line saying what would have been sent, and where, so the behaviour
// is visible before any integration is set up. Logging cannot fail, so it always delivers.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { OutboxRow } from '../store/outbox.ts';
import type { Finding } from '../types.ts';
import type { Deliverer } from './delivery.ts';
import { pagedSeveritiesFor, routeForIncident } from './routing.ts';

interface ConsolePayload {
  change: string;
  text: string;
  incident: { id: string; check: string; asset: string; severity: string; owner: string | null };
  finding: Finding;
}

export function consoleDeliverer(logger: Logger, config: Config): Deliverer {
  const console = logger.child({ notifier: 'console' });
  return async (item: OutboxRow) => {
    const payload = item.payload as unknown as ConsolePayload;
    const route = routeForIncident(config, payload.incident);
    const fields = { incident: payload.incident.id, asset: payload.incident.asset, check: payload.incident.check, status: payload.finding.status, change: payload.change, route };
    const line = `notification ${destinations(route, config, payload.incident.asset, payload.incident.severity)}: ${payload.text}`;
    if (payload.change === 'resolved' || payload.change === 'resolved_by_hand') console.info(fields, line);
    else console.warn(fields, line);
    return { status: 'delivered' };
  };
}

function destinations(route: ReturnType<typeof routeForIncident>, config: Config, asset: string, severity: string): string {
  const targets: string[] = [];
  if (route.slackChannel !== undefined) targets.push(`Slack ${route.slackChannel}`);
  if (route.pagerduty && pagedSeveritiesFor(config, asset).includes(severity as never)) targets.push('PagerDuty');
  const owner = route.owner === undefined ? 'no owner' : `owner ${route.owner}`;
  return targets.length === 0 ? `(${owner}; no channel configured)` : `for ${targets.join(' and ')} (${owner})`;
}
