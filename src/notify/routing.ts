// Who answers for an asset and where to reach them: the first monitor that matches the asset and
// names an owner wins, then the owner its source gives (dbt `meta.owner`, an Airflow or SQLMesh
// source's `owner`), then `notifications.default_owner`. Owners map to a Slack channel and a
// PagerDuty routing key in `owners`. An incident keeps the owner it was opened with.

import { monitorCoversAsset } from '../config/asset-globs.ts';
import type { Config } from '../config/schema.ts';
import type { NotificationRoute } from './notification.ts';

export function ownerForAsset(config: Config, asset: string, sourceOwner?: string): string | undefined {
  for (const monitor of config.monitors) {
    if (monitor.owner === undefined) continue;
    if (monitorCoversAsset(monitor, asset)) return monitor.owner;
  }
  return sourceOwner ?? config.notifications.default_owner;
}

export function routeForAsset(config: Config, asset: string, sourceOwner?: string): NotificationRoute {
  return routeForOwner(config, ownerForAsset(config, asset, sourceOwner));
}

/** Where an incident's notifications go: to the owner it was opened with, else as its asset's route. */
export function routeForIncident(config: Config, incident: { asset: string; owner?: string | null }): NotificationRoute {
  return incident.owner === null || incident.owner === undefined ? routeForAsset(config, incident.asset) : routeForOwner(config, incident.owner);
}

function routeForOwner(config: Config, owner: string | undefined): NotificationRoute {
  const contact = owner === undefined ? undefined : config.owners[owner];
  return {
    ...(owner === undefined ? {} : { owner }),
    ...(contact?.slack === undefined ? {} : { slackChannel: contact.slack }),
    pagerduty: pagerDutyRoutingKey(config, owner) !== undefined,
  };
}

/** The severities that page for an asset: the first monitor covering it that says, else `incidents.page_on`. */
export function pagedSeveritiesFor(config: Config, asset: string): Config['incidents']['page_on'] {
  for (const monitor of config.monitors) {
    if (monitor.page_on !== undefined && monitorCoversAsset(monitor, asset)) return monitor.page_on;
  }
  return config.incidents.page_on;
}

/** The Events API routing key for an owner's incidents: the owner's own, else the default. */
export function pagerDutyRoutingKey(config: Config, owner: string | null | undefined): string | undefined {
  const key = (owner === null || owner === undefined ? undefined : config.owners[owner]?.pagerduty) ?? config.pagerduty?.routing_key;
  return key === undefined || key === '' ? undefined : key;
}
