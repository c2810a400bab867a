// Which channels the incident engine queues for must be the ones this process can deliver to.

import { describe, expect, it } from 'vitest';
import { notificationChannels, openChannels } from '../../src/notify/channels.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';

const config = (extra: Parameters<typeof daemonConfig>[2]) => daemonConfig('postgres://s@127.0.0.1:1/s', { shop: 'postgres://w@127.0.0.1:1/w' }, extra);

describe('notification channels', () => {
  it.each([
    { name: 'console on, no PagerDuty', extra: {}, console: true, pagerduty: false },
    { name: 'console off but nothing else would hear: console anyway', extra: { notifications: { console: false } }, console: true, pagerduty: false },
    { name: 'console off with PagerDuty', extra: { notifications: { console: false }, owners: { a: { pagerduty: 'key' } } }, console: false, pagerduty: true },
    { name: 'a Slack token alone queues nothing for Slack yet', extra: { slack: { bot_token: 'xoxb-1' } }, console: true, pagerduty: false },
  ])('$name', async ({ extra, console, pagerduty }) => {
    const parsed = config(extra);
    expect(notificationChannels(parsed)).toEqual({ console, slack: false });
    const channels = await openChannels(parsed, testLogger());
    try {
      expect(Object.keys(channels.deliverers).sort()).toEqual([...(console ? ['console'] : []), ...(pagerduty ? ['pagerduty'] : [])]);
    } finally {
      channels.close();
    }
  });

  it('says which CA file it cannot read', async () => {
    const parsed = config({ owners: { a: { pagerduty: 'key' } }, pagerduty: { ca_file: '/nonexistent/ca.pem' } });
    await expect(openChannels(parsed, testLogger())).rejects.toMatchObject({ code: 'config_ca_file_unreadable', message: expect.stringContaining('/nonexistent/ca.pem') });
  });
});
