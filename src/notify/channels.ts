// Which channels notifications go to, decided in one place so that what the incident engine
// queues and what this process can deliver always agree: PagerDuty when any routing key is
// configured (its client trusts `pagerduty.ca_file` on top of the default CAs); the console when
// `notifications.console` is on, and always when nothing else would hear about an incident;
// Slack when `slack.bot_token` is set (items are queued only for owners with a Slack channel).
// The Slack deliverer keeps each incident's message in the state DB, so it needs the pool.

import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import type { NotificationChannels } from '../incidents/plan-notifications.ts';
import type { OutboxChannel } from '../store/incident-records.ts';
import { consoleDeliverer } from './console-deliverer.ts';
import type { Deliverer } from './delivery.ts';
import { PagerDutyClient } from './pagerduty-client.ts';
import { pagerDutyDeliverer } from './pagerduty-deliverer.ts';
import { SlackClient } from './slack-client.ts';
import { slackDeliverer } from './slack-deliverer.ts';

export interface Channels {
  deliverers: Partial<Record<OutboxChannel, Deliverer>>;
  close(): void;
}

export interface OpenChannelsOptions {
  /** The state DB: where the Slack deliverer keeps each incident's message. */
  pool?: pg.Pool;
  /** Slack Web API base URL (tests); else `slack.api_url`, else Slack's own. */
  slackApiUrl?: string;
}

/** What the incident engine may queue for. */
export function notificationChannels(config: Config): NotificationChannels {
  const slack = postsToSlack(config);
  return { console: config.notifications.console || !(pagesAnyone(config) || slack), slack };
}

export async function openChannels(config: Config, logger: Logger, options: OpenChannelsOptions = {}): Promise<Channels> {
  const deliverers: Partial<Record<OutboxChannel, Deliverer>> = {};
  const token = config.slack?.bot_token;
  if (token !== undefined && token !== '') {
    if (options.pool === undefined) {
      // Items stay pending (the outbox retries them) until a process that can deliver them runs.
      logger.error('slack.bot_token is set but this process was not given the state database for Slack messages; Slack notifications stay queued');
    } else {
      const slackApiUrl = options.slackApiUrl ?? config.slack?.api_url;
      const client = new SlackClient({ token, slackApiUrl });
      deliverers.slack = slackDeliverer({ pool: options.pool, client, config });
    }
  }
  if (notificationChannels(config).console) deliverers.console = consoleDeliverer(logger, config);
  let pagerduty: PagerDutyClient | undefined;
  if (pagesAnyone(config)) {
    pagerduty = new PagerDutyClient({ host: config.pagerduty?.events_host, trustedCertificates: await trustedCertificates(config) });
    deliverers.pagerduty = pagerDutyDeliverer(pagerduty, config);
  }
  return { deliverers, close: () => pagerduty?.close() };
}

function postsToSlack(config: Config): boolean {
  const token = config.slack?.bot_token;
  return token !== undefined && token !== '';
}

function pagesAnyone(config: Config): boolean {
  const keys = [config.pagerduty?.routing_key, ...Object.values(config.owners).map((owner) => owner.pagerduty)];
  return keys.some((key) => key !== undefined && key !== '');
}

async function trustedCertificates(config: Config): Promise<string[]> {
  const file = config.pagerduty?.ca_file;
  if (file === undefined) return [];
  try {
    return [await readFile(file, 'utf8')];
  } catch (error) {
    throw new PipewardenError('config_ca_file_unreadable', `pagerduty.ca_file ${file} cannot be read: ${errorMessage(error)}. Point it at a PEM file of CA certificates, or remove it.`);
  }
}
