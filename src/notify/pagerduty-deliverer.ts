// The PagerDuty channel of the outbox: an outbox item (an incident change, planned by
// src/incidents/plan-notifications.ts) becomes one Events API v2 event for the owner's routing
// key. The key is looked up at delivery, from the config, so it never sits in the state DB.

import type { Config } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { StoredBlastRadius } from '../store/incident-records.ts';
import type { OutboxRow } from '../store/outbox.ts';
import type { Finding } from '../types.ts';
import type { Deliverer } from './delivery.ts';
import type { PagerDutyClient } from './pagerduty-client.ts';
import { buildPagerDutyEvent, type PagerDutyAction, type PagerDutySeverity } from './pagerduty-event.ts';
import { RateWindow } from './rate-window.ts';
import { pagerDutyRoutingKey } from './routing.ts';

interface PagerDutyItem {
  action: PagerDutyAction;
  text: string;
  incident: {
    id: string;
    dedupKey: string;
    check: string;
    kind: string;
    asset: string;
    severity: PagerDutySeverity;
    owner: string | null;
    openedAt: string;
    blastRadius?: StoredBlastRadius | null;
  };
  finding: Finding;
  /** What a runbook tried, when its failure is what pages. */
  runbook_attempts?: Record<string, unknown>[];
}

// Under PagerDuty's ~120 events a minute per routing key, with room for other senders.
const EVENTS_PER_MINUTE = 100;

export function pagerDutyDeliverer(client: Pick<PagerDutyClient, 'send'>, config: Config, now: () => Date = () => new Date()): Deliverer {
  const budget = new RateWindow(EVENTS_PER_MINUTE);
  return async (item: OutboxRow) => {
    const payload = item.payload as unknown as PagerDutyItem;
    const { incident, finding } = payload;
    const routingKey = pagerDutyRoutingKey(config, incident.owner);
    if (routingKey === undefined) {
      return { status: 'dead', reason: `no PagerDuty routing key for owner ${incident.owner ?? '(none)'}: set owners.<owner>.pagerduty or pagerduty.routing_key` };
    }
    let event;
    try {
      event = buildPagerDutyEvent({
        action: payload.action,
        routingKey,
        incident: { id: incident.id, dedupKey: incident.dedupKey, summary: payload.text, severity: incident.severity, detectedAt: new Date(incident.openedAt) },
        check: { id: incident.check, kind: incident.kind, ...(finding.column === undefined ? {} : { column: finding.column }) },
        asset: incident.asset,
        ...(incident.owner === null ? {} : { owner: incident.owner }),
        evidence: evidenceOf(finding),
        ...(incident.blastRadius === undefined || incident.blastRadius === null ? {} : { blastRadius: { summary: incident.blastRadius.summary, ...incident.blastRadius.details } }),
        ...(payload.runbook_attempts === undefined ? {} : { attempts: payload.runbook_attempts }),
        ...(config.notifications.grafana_url === undefined ? {} : { links: [{ href: config.notifications.grafana_url, text: 'pipewarden in Grafana' }] }),
      });
    } catch (error) {
      return { status: 'dead', reason: `the event could not be built: ${errorMessage(error)}` };
    }
    const waitMs = budget.take(routingKey, now().getTime());
    if (waitMs > 0) return { status: 'retry', reason: `holding back: ${EVENTS_PER_MINUTE} events in the last minute for this routing key`, retryAfterMs: waitMs };
    return client.send(event);
  };
}

function evidenceOf(finding: Finding): Record<string, unknown> {
  return {
    status: finding.status,
    message: finding.message,
    observed: finding.observed,
    ...(finding.expected === undefined ? {} : { expected: finding.expected }),
    ...(finding.score === undefined ? {} : { score: finding.score }),
    ...(finding.bucket === undefined ? {} : { bucket: finding.bucket }),
  };
}
