// POST /webhooks/pagerduty: PagerDuty's v3 webhooks, verified before anything else is read. The
// order matters: size, then signature, then shape, then the callback — so a forged, unsigned or
// tampered request never reaches `onEvent`, and a replayed one reaches it only verified (the
// callback deduplicates by event id). Answers follow PagerDuty's retry rules: 4xx are dropped
// for good (unsigned, forged, malformed, too large), 5xx are redelivered (pipewarden could not
// apply the event just now), 202 acknowledges.

import { errorMessage } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { PAGERDUTY_SIGNATURE_HEADER, verifyPagerDutySignature, type SignatureCheck } from './pagerduty-signature.ts';
import { parsePagerDutyWebhook, type PagerDutyIncidentEvent } from './pagerduty-webhook.ts';
import type { HttpHandler, HttpRequest, HttpResponse, HttpServer } from './server.ts';
import { jsonResponse } from './server.ts';

export const PAGERDUTY_WEBHOOK_PATH = '/webhooks/pagerduty';
/** PagerDuty drops every webhook over 256 KB, so nothing larger can be genuine. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 256 * 1024;

export interface PagerDutyWebhookDependencies {
  /** `pagerduty.webhook_secrets`: every secret still in use (several while rotating). */
  secrets: readonly string[];
  /** Applies a verified incident event; deduplicates by `event.id`. Throwing asks for redelivery. */
  onEvent: (event: PagerDutyIncidentEvent) => void | Promise<void>;
  logger: Logger;
  maxBodyBytes?: number;
}

export function mountPagerDutyWebhook(server: HttpServer, dependencies: PagerDutyWebhookDependencies): void {
  server.route('POST', PAGERDUTY_WEBHOOK_PATH, pagerDutyWebhookHandler(dependencies));
}

export function pagerDutyWebhookHandler(dependencies: PagerDutyWebhookDependencies): HttpHandler {
  const logger = dependencies.logger.child({ route: PAGERDUTY_WEBHOOK_PATH });
  const maxBodyBytes = dependencies.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  return async (request) => {
    if (request.rawBody.length > maxBodyBytes) return problem(413, 'body_too_large', `The body is over ${maxBodyBytes} bytes.`);
    const refused = checkSignature(request, dependencies.secrets, logger);
    if (refused) return refused;
    const parsed = parsePagerDutyWebhook(request.rawBody);
    if (!parsed.ok) {
      logger.warn({ problem: parsed.problem }, `PagerDuty webhook refused: ${parsed.problem}`);
      return problem(400, 'invalid_webhook', `Not a PagerDuty webhooks v3 event: ${parsed.problem}.`);
    }
    const { event } = parsed;
    if (event.kind === 'ignored') {
      logger.debug({ event: event.id, type: event.type }, `PagerDuty ${event.type} ignored: pipewarden only syncs acknowledged, resolved and reopened`);
      return jsonResponse(202, { status: 'ignored' });
    }
    return deliver(event, dependencies.onEvent, logger);
  };
}

function checkSignature(request: HttpRequest, secrets: readonly string[], logger: Logger): HttpResponse | undefined {
  if (secrets.every((secret) => secret === '')) {
    logger.error('PagerDuty webhook refused: no webhook secret is configured; set pagerduty.webhook_secrets to the secret of the PagerDuty webhook subscription');
    return problem(401, 'signature_not_configured', 'This pipewarden does not accept PagerDuty webhooks until a webhook secret is configured.');
  }
  const check: SignatureCheck = verifyPagerDutySignature(request.rawBody, request.headers[PAGERDUTY_SIGNATURE_HEADER], secrets);
  if (check.status === 'valid') return undefined;
  const detail = check.status === 'malformed' ? `: ${check.reason}` : '';
  logger.warn({ signature: check.status }, `PagerDuty webhook refused: signature ${check.status}${detail}`);
  return problem(401, `signature_${check.status}`, 'The X-PagerDuty-Signature header is missing or does not match.');
}

async function deliver(event: PagerDutyIncidentEvent, onEvent: PagerDutyWebhookDependencies['onEvent'], logger: Logger): Promise<HttpResponse> {
  try {
    await onEvent(event);
  } catch (error) {
    logger.error({ err: error, event: event.id, type: event.type }, `PagerDuty ${event.type} could not be applied; PagerDuty will redeliver it: ${errorMessage(error)}`);
    return problem(503, 'not_applied', 'The event could not be applied yet; retry later.');
  }
  return jsonResponse(202, { status: 'accepted' });
}

function problem(status: number, code: string, message: string): HttpResponse {
  return jsonResponse(status, { error: { code, message } });
}
