// The Slack Web API calls the Slack channel of the outbox makes (chat.postMessage, chat.update),
// through @slack/web-api's WebClient, and what the outbox should do with each failure:
//
// - 429: retry after Retry-After. The WebClient would otherwise sleep and re-send by itself
//   (`rejectRateLimitedCalls` off) and retry for half an hour (its default retry policy): here it
//   makes exactly one request per attempt, and the outbox loop does the waiting and retrying.
// - 5xx, other non-200 answers, network errors, timeouts: retry.
// - `ok: false`: dead, because sending the same call again gets the same answer. Errors a person
//   can fix say how (invite the bot, fix the token).
//
// The bot token is sent only in the Authorization header. It is never in a reason or a log line:
// the WebClient's own logger is silenced (it logs request bodies at debug, redacted, but a reason
// built from an exception message is only ever Slack's error code or our own words).

import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { DeliveryOutcome } from './delivery.ts';

export interface SlackClientOptions {
  token: string;
  /** Web API base URL; Slack's own (`https://slack.com/api/`) unless a test points it elsewhere. */
  slackApiUrl?: string | undefined;
  timeoutMs?: number;
  /** Pause after a 429 without a usable Retry-After. */
  rateLimitPauseMs?: number;
}

export interface SlackMessageBody {
  channel: string;
  text: string;
  blocks?: Record<string, unknown>[];
  thread_ts?: string;
}

export type SlackCallResult = { status: 'ok'; channel: string; ts: string } | Exclude<DeliveryOutcome, { status: 'delivered' }>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RATE_LIMIT_PAUSE_MS = 30_000;

/** What to do about `ok: false` errors a person can fix. */
const FIXES: Record<string, string> = {
  channel_not_found: 'the channel does not exist or the bot cannot see it: check owners.<owner>.slack, and invite the bot to a private channel (/invite @pipewarden)',
  not_in_channel: 'the bot is not a member of the channel: invite it (/invite @pipewarden) or give it the chat:write.public scope',
  is_archived: 'the channel is archived: point owners.<owner>.slack at a live channel',
  invalid_auth: 'Slack rejected the bot token: set slack.bot_token to the app\'s current Bot User OAuth Token (xoxb-…)',
  not_authed: 'no bot token reached Slack: set slack.bot_token',
  account_inactive: 'the bot token belongs to a deactivated app or user: reinstall the Slack app and update slack.bot_token',
  token_revoked: 'the bot token was revoked: reinstall the Slack app and update slack.bot_token',
  missing_scope: 'the bot token lacks a scope: add chat:write to the app and reinstall it',
  message_not_found: 'the incident\'s message is gone from Slack (deleted?)',
  msg_too_long: 'the message is longer than Slack accepts',
  invalid_blocks: 'Slack rejected the message\'s blocks',
};

export class SlackClient {
  private readonly web: WebClient;
  private readonly rateLimitPauseMs: number;

  constructor(options: SlackClientOptions) {
    this.rateLimitPauseMs = options.rateLimitPauseMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
    this.web = new WebClient(options.token, {
      ...(options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }),
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: silentLogger(),
    });
  }

  /** chat.postMessage; with `thread_ts`, a reply in that message's thread. Never throws. */
  postMessage(body: SlackMessageBody): Promise<SlackCallResult> {
    return this.call('chat.postMessage', body);
  }

  /** chat.update of the message at `ts` (channel must be the id Slack answered with). Never throws. */
  update(body: SlackMessageBody & { ts: string }): Promise<SlackCallResult> {
    return this.call('chat.update', body);
  }

  private async call(method: 'chat.postMessage' | 'chat.update', body: SlackMessageBody & { ts?: string }): Promise<SlackCallResult> {
    try {
      const answer = (await this.web.apiCall(method, { ...body })) as { channel?: unknown; ts?: unknown };
      const channel = typeof answer.channel === 'string' ? answer.channel : body.channel;
      if (typeof answer.ts !== 'string') return { status: 'dead', reason: `Slack's ${method} answer has no message ts` };
      return { status: 'ok', channel, ts: answer.ts };
    } catch (error) {
      return this.classify(method, error);
    }
  }

  private classify(method: string, error: unknown): SlackCallResult {
    const failure = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: unknown }; original?: { name?: string; message?: string; code?: string } };
    switch (failure.code) {
      case 'slack_webapi_rate_limited_error':
        return { status: 'retry', reason: `Slack rate-limited ${method} (429)`, retryAfterMs: (failure.retryAfter ?? 0) * 1000 };
      case 'slack_webapi_platform_error': {
        const code = typeof failure.data?.error === 'string' ? failure.data.error : 'unknown_error';
        const fix = FIXES[code];
        return { status: 'dead', reason: `Slack ${method} answered ${code}${fix === undefined ? '' : `: ${fix}`}` };
      }
      case 'slack_webapi_http_error':
        return { status: 'retry', reason: `Slack ${method} answered HTTP ${failure.statusCode ?? '?'}` };
      case 'slack_webapi_request_error': {
        const original = failure.original;
        if (original?.name === 'TimeoutError' || original?.name === 'AbortError') return { status: 'retry', reason: `Slack ${method} did not answer in time` };
        return { status: 'retry', reason: `could not reach Slack for ${method}${original?.code === undefined ? '' : ` (${original.code})`}` };
      }
      default:
        // A 429 without a usable Retry-After comes out as a plain error from the WebClient.
        if (error instanceof Error && /rate limit|retry-after/i.test(error.message)) {
          return { status: 'retry', reason: `Slack rate-limited ${method} (429) without a usable Retry-After`, retryAfterMs: this.rateLimitPauseMs };
        }
        return { status: 'retry', reason: `Slack ${method} failed unexpectedly` };
    }
  }
}

function silentLogger(): SlackLogger {
  const nothing = (): void => undefined;
  return { debug: nothing, info: nothing, warn: nothing, error: nothing, setLevel: nothing, getLevel: () => LogLevel.ERROR, setName: nothing };
}
