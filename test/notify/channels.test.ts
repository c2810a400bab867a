// Which channels the incident engine queues for must be the ones this process can deliver to.

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { notificationChannels, openChannels } from '../../src/notify/channels.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';

const config = (extra: Parameters<typeof daemonConfig>[2]) => daemonConfig('postgres://s@127.0.0.1:1/s', { shop: 'postgres://w@127.0.0.1:1/w' }, extra);

describe('notification channels', () => {
  it.each([
    { name: 'console on, no PagerDuty', extra: {}, console: true, pagerduty: false, slack: false },
    { name: 'console off but nothing else would hear: console anyway', extra: { notifications: { console: false } }, console: true, pagerduty: false, slack: false },
    { name: 'console off with PagerDuty', extra: { notifications: { console: false }, owners: { a: { pagerduty: 'key' } } }, console: false, pagerduty: true, slack: false },
    { name: 'a Slack bot token turns Slack on, console stays on as configured', extra: { slack: { bot_token: 'xoxb-1' } }, console: true, pagerduty: false, slack: true },
    { name: 'console off with Slack: Slack is someone who hears', extra: { notifications: { console: false }, slack: { bot_token: 'xoxb-1' } }, console: false, pagerduty: false, slack: true },
    { name: 'an empty bot token is no Slack', extra: { slack: { bot_token: '' } }, console: true, pagerduty: false, slack: false },
  ])('$name', async ({ extra, console, pagerduty, slack }) => {
    const parsed = config(extra);
    expect(notificationChannels(parsed)).toEqual({ console, slack });
    // The pool is never connected to: opening channels only hands it to the Slack deliverer.
    const pool = new pg.Pool({ connectionString: 'postgres://s@127.0.0.1:1/s' });
    const channels = await openChannels(parsed, testLogger(), { pool });
    try {
      expect(Object.keys(channels.deliverers).sort()).toEqual([...(console ? ['console'] : []), ...(pagerduty ? ['pagerduty'] : []), ...(slack ? ['slack'] : [])]);
    } finally {
      channels.close();
      await pool.end();
    }
  });

  it('without the state database it queues for Slack but delivers nothing there, and says so', async () => {
    const lines: string[] = [];
    const logger = testLogger();
    const errorSpy = logger.error.bind(logger);
    logger.error = ((message: string) => (lines.push(message), errorSpy(message))) as typeof logger.error;
    const channels = await openChannels(config({ slack: { bot_token: 'xoxb-1' } }), logger);
    expect(Object.keys(channels.deliverers)).toEqual(['console']);
    expect(lines).toEqual([expect.stringContaining('slack.bot_token is set but this process was not given the state database')]);
    channels.close();
  });

  it('says which CA file it cannot read', async () => {
    const parsed = config({ owners: { a: { pagerduty: 'key' } }, pagerduty: { ca_file: '/nonexistent/ca.pem' } });
    await expect(openChannels(parsed, testLogger())).rejects.toMatchObject({ code: 'config_ca_file_unreadable', message: expect.stringContaining('/nonexistent/ca.pem') });
  });
});
