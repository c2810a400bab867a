// Who answers for an asset: a monitor's owner in the config, then the owner the asset's source
// gives (dbt meta.owner, an Airflow or SQLMesh source's owner), then notifications.default_owner;
// an incident is routed to the owner it was opened with.

import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { ownerForAsset, routeForAsset, routeForIncident } from '../../src/notify/routing.ts';

const config = configSchema.parse({
  warehouses: { wh: { type: 'postgres', url: 'postgres://x@127.0.0.1:1/x' } },
  monitors: [{ assets: 'wh.raw.*', owner: 'ingest', freshness: true }],
  owners: { ingest: { slack: '#ingest' }, 'orders-team': { slack: '#orders', pagerduty: 'key-orders' }, platform: { slack: '#platform' } },
  notifications: { default_owner: 'platform' },
});

describe('routing', () => {
  it('prefers the config\'s monitor owner, then the source\'s owner, then the default owner', () => {
    expect(ownerForAsset(config, 'wh.raw.inventory', 'orders-team')).toBe('ingest');
    expect(ownerForAsset(config, 'wh.marts.orders', 'orders-team')).toBe('orders-team');
    expect(ownerForAsset(config, 'wh.marts.orders')).toBe('platform');
    expect(routeForAsset(config, 'airflow:load_orders', 'orders-team')).toEqual({ owner: 'orders-team', slackChannel: '#orders', pagerduty: true });
  });

  it('routes an incident to the owner it was opened with, whatever monitors say now', () => {
    expect(routeForIncident(config, { asset: 'wh.raw.inventory', owner: 'orders-team' })).toEqual({ owner: 'orders-team', slackChannel: '#orders', pagerduty: true });
    expect(routeForIncident(config, { asset: 'wh.raw.inventory', owner: null })).toEqual({ owner: 'ingest', slackChannel: '#ingest', pagerduty: false });
    // An owner dbt names but the config does not know: kept, with nowhere to send but the defaults.
    expect(routeForIncident(config, { asset: 'wh.marts.x', owner: 'someone@example.com' })).toEqual({ owner: 'someone@example.com', pagerduty: false });
  });
});
