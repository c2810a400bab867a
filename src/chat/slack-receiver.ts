// A Bolt Receiver on pipewarden's own HTTP server, rather than Bolt's HTTPReceiver/ExpressReceiver:
// those open a second port, and pipewarden has one server for probes, metrics and webhooks. The
// order on each request is the PagerDuty webhook's: signature first (a forged, unsigned, stale
// or future-dated request gets 401 and never reaches Bolt), then shape, then Bolt's listeners.
//
// Slack wants an answer within 3 seconds. The HTTP answer is whatever the listener passes to
// `ack()`; a listener that has not acked by ACK_DEADLINE_MS gets an empty 200 sent for it (and a
// warning logged), so Slack never shows the user a timeout. Slower work answers via `respond()`.

import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { errorMessage } from '../errors.ts';
import type { HttpHandler, HttpRequest, HttpResponse, HttpServer } from '../http/server.ts';
import { jsonResponse } from '../http/server.ts';
import type { Logger } from '../telemetry/logger.ts';
import { verifySlackSignature } from './slack-signature.ts';

export const SLACK_COMMANDS_PATH = '/slack/commands';
export const SLACK_ACTIONS_PATH = '/slack/actions';
export const SLACK_EVENTS_PATH = '/slack/events';
/** Under Slack's 3 s, leaving room for the network on the way back. */
export const ACK_DEADLINE_MS = 2_500;

export interface HttpSlackReceiverOptions {
  signingSecret: string;
  logger: Logger;
  now?: () => number;
}

type Body = Record<string, unknown>;

export class HttpSlackReceiver implements Receiver {
  private app: App | undefined;
  private readonly options: HttpSlackReceiverOptions;
  private readonly logger: Logger;

  constructor(options: HttpSlackReceiverOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'slack' });
  }

  init(app: App): void {
    this.app = app;
  }

  // The HTTP server is started and stopped by the daemon; nothing of the receiver's own to run.
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  mount(server: HttpServer): void {
    for (const path of [SLACK_COMMANDS_PATH, SLACK_ACTIONS_PATH, SLACK_EVENTS_PATH]) server.route('POST', path, this.handler());
  }

  handler(): HttpHandler {
    return async (request) => {
      const refused = this.checkSignature(request);
      if (refused) return refused;
      const body = parseBody(request);
      if (body === undefined) return problem(400, 'invalid_body', 'The body is neither a Slack form post nor JSON.');
      if (body.type === 'url_verification') return jsonResponse(200, { challenge: typeof body.challenge === 'string' ? body.challenge : '' });
      if (body.ssl_check !== undefined) return { status: 200 };
      return this.dispatch(request, body);
    };
  }

  private checkSignature(request: HttpRequest): HttpResponse | undefined {
    const check = verifySlackSignature(request.rawBody, request.headers, this.options.signingSecret, (this.options.now ?? Date.now)());
    if (check.status === 'valid') return undefined;
    const detail = check.status === 'malformed' ? `: ${check.reason}` : '';
    this.logger.warn({ route: request.path, signature: check.status }, `Slack request refused: signature ${check.status}${detail}`);
    return problem(401, `signature_${check.status}`, 'The X-Slack-Signature or X-Slack-Request-Timestamp header is missing, out of date or does not match.');
  }

  private dispatch(request: HttpRequest, body: Body): Promise<HttpResponse> {
    const app = this.app;
    if (app === undefined) return Promise.resolve(problem(503, 'not_ready', 'The Slack app is not initialised yet.'));
    return new Promise((resolve) => {
      let answered = false;
      const answer = (response: HttpResponse): void => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        resolve(response);
      };
      const timer = setTimeout(() => {
        this.logger.warn({ route: request.path }, `Slack request not acknowledged within ${ACK_DEADLINE_MS} ms; answered empty so Slack does not time out`);
        answer({ status: 200 });
      }, ACK_DEADLINE_MS);
      const retryNum = Number(request.headers['x-slack-retry-num']);
      const retryReason = request.headers['x-slack-retry-reason'];
      const event: ReceiverEvent = {
        body,
        ...(Number.isInteger(retryNum) ? { retryNum } : {}),
        ...(typeof retryReason === 'string' ? { retryReason } : {}),
        ack: (response?: unknown) => {
          answer(ackResponse(response));
          return Promise.resolve();
        },
      };
      app
        .processEvent(event)
        .catch((error: unknown) => this.logger.error({ err: error, route: request.path }, `Slack listener failed: ${errorMessage(error)}`))
        // Events no listener takes are never acked by Bolt: Slack still gets its 200.
        .finally(() => answer({ status: 200 }));
    });
  }
}

function ackResponse(response: unknown): HttpResponse {
  if (response === undefined || response === '') return { status: 200 };
  if (typeof response === 'string') return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: response };
  return jsonResponse(200, response);
}

/** Slash commands are form posts; buttons a form with one `payload` JSON field; events JSON. */
function parseBody(request: HttpRequest): Body | undefined {
  const text = request.rawBody.toString('utf8');
  const contentType = String(request.headers['content-type'] ?? '');
  try {
    if (contentType.includes('application/json')) {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Body) : undefined;
    }
    const form = new URLSearchParams(text);
    const payload = form.get('payload');
    if (payload !== null) {
      const parsed: unknown = JSON.parse(payload);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Body) : undefined;
    }
    return Object.fromEntries(form);
  } catch {
    return undefined;
  }
}

function problem(status: number, code: string, message: string): HttpResponse {
  return jsonResponse(status, { error: { code, message } });
}
