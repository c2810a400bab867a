import { describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { ownerForAsset, routeForAsset } from '../../src/notify/routing.ts';
import { notificationsForChanges } from '../../src/notify/status-changes.ts';
import type { Finding, FindingStatus } from '../../src/types.ts';

const config = configSchema.parse({
  warehouses: { analytics: { type: 'postgres', url: 'postgres://127.0.0.1/x' } },
  monitors: [
    { assets: 'analytics.raw.*', exclude: ['analytics.raw.tmp_*'], owner: 'inventory', schema: true },
    { assets: 'analytics.raw.*', owner: 'platform', schema: true },
    { assets: 'analytics.public.*', schema: true },
  ],
  owners: { inventory: { slack: '#inventory-data', pagerduty: 'routing-key-inventory' }, platform: { slack: '#platform' }, fallback: {} },
  notifications: { default_owner: 'fallback' },
} satisfies ConfigInput);

function finding(asset: string, status: FindingStatus): Finding {
  return { check: `freshness:${asset}`, kind: 'freshness', asset, status, observed: 600, message: `${asset}: newest loaded_at is 10m old` };
}

describe('routing', () => {
  it('takes the first monitor that covers the asset and names an owner', () => {
    expect(ownerForAsset(config, 'analytics.raw.inventory')).toBe('inventory');
  });

  it('skips a monitor whose exclude removes the asset', () => {
    expect(ownerForAsset(config, 'analytics.raw.tmp_load')).toBe('platform');
  });

  it('falls back to notifications.default_owner', () => {
    expect(ownerForAsset(config, 'analytics.public.orders')).toBe('fallback');
  });

  it('routes to the owner\'s Slack channel and says whether PagerDuty is configured, never the key', () => {
    expect(routeForAsset(config, 'analytics.raw.inventory')).toEqual({ owner: 'inventory', slackChannel: '#inventory-data', pagerduty: true });
    expect(routeForAsset(config, 'analytics.raw.tmp_load')).toEqual({ owner: 'platform', slackChannel: '#platform', pagerduty: false });
    expect(JSON.stringify(routeForAsset(config, 'analytics.raw.inventory'))).not.toContain('routing-key');
  });
});

describe('notificationsForChanges', () => {
  const asset = 'analytics.raw.inventory';

  it('says nothing about a check that is ok from its first evaluation', () => {
    expect(notificationsForChanges([finding(asset, 'ok')], new Map(), config)).toEqual([]);
  });

  it('announces a check that starts out failing', () => {
    const [notification] = notificationsForChanges([finding(asset, 'fail')], new Map(), config);
    expect(notification).toMatchObject({ check: `freshness:${asset}`, status: 'fail', route: { owner: 'inventory' } });
    expect(notification?.previousStatus).toBeUndefined();
    expect(notification?.text).toBe(`FAIL freshness: ${asset}: newest loaded_at is 10m old`);
  });

  it('does not repeat a status that did not change', () => {
    const previous = new Map([[`freshness:${asset}`, 'fail' as const]]);
    expect(notificationsForChanges([finding(asset, 'fail')], previous, config)).toEqual([]);
  });

  it('announces a worsening and a recovery with the status before', () => {
    const worse = notificationsForChanges([finding(asset, 'fail')], new Map([[`freshness:${asset}`, 'warn' as const]]), config);
    expect(worse[0]?.text).toBe(`FAIL freshness (was warn): ${asset}: newest loaded_at is 10m old`);
    const recovered = notificationsForChanges([finding(asset, 'ok')], new Map([[`freshness:${asset}`, 'fail' as const]]), config);
    expect(recovered[0]).toMatchObject({ status: 'ok', previousStatus: 'fail' });
    expect(recovered[0]?.text).toMatch(/^RECOVERED freshness: /);
  });

  it('calls an error what it is: a check that could not be measured', () => {
    const [notification] = notificationsForChanges([finding(asset, 'error')], new Map([[`freshness:${asset}`, 'ok' as const]]), config);
    expect(notification?.text).toMatch(/^CANNOT MEASURE freshness \(was ok\): /);
  });
});
