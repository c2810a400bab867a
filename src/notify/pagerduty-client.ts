// Sends one Events API v2 body and says what the outbox should do next: 202 → delivered;
// 429 → retry after Retry-After (or PagerDuty's suggested pause); 5xx, 408, network errors,
// timeouts and TLS failures → retry; any other answer → dead letter with a short reason.
//
// Why node:https and not @pagerduty/pdjs's event(): pdjs could be made to trust an extra CA (its
// options reach node-fetch 2 through cross-fetch, so an https.Agent passes through; it ignores
// undici's `dispatcher` and takes no custom fetch), but its fetch_retry re-sends every 429 three
// more times itself (hard-coded, Retry-After ignored, 20 s apart by default — longer than an
// outbox lease), its requestTimeout aborts nothing, and a non-JSON answer (a proxy's HTML error
// page) becomes an "invalid json" exception that hides the status code. The outbox needs exactly
// one request per attempt and every status, so this is one POST to the same URL pdjs would use.
//
// The routing key travels only in the request body: it is never part of a reason, an error or a
// log line, and it is cut out of anything PagerDuty echoes back.

import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { getCACertificates } from 'node:tls';
import { DeliveryError } from '../errors.ts';
import type { DeliveryOutcome } from './delivery.ts';
import type { PagerDutyEventBody } from './pagerduty-event.ts';

export interface PagerDutyClientOptions {
  /** Events API host, optionally with a port: `events.pagerduty.com` (default), `events.eu.pagerduty.com`. */
  host?: string;
  /** Whole request, connect to last byte. */
  timeoutMs?: number;
  /**
   * Extra CA certificates (PEM) to trust for the events host, on top of Node's default store
   * (bundled roots plus NODE_EXTRA_CA_CERTS): a corporate TLS proxy's CA, or a test server's.
   */
  trustedCertificates?: readonly string[];
  /** Pause after a 429 that names no Retry-After; PagerDuty suggests about 30 s. */
  rateLimitPauseMs?: number;
  now?: () => Date;
}

interface HttpAnswer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

export const DEFAULT_EVENTS_HOST = 'events.pagerduty.com';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RATE_LIMIT_PAUSE_MS = 30_000;
/** PagerDuty's answers are small JSON; anything longer is not worth reading into a reason. */
const MAX_ANSWER_BYTES = 16 * 1024;
const MAX_REASON_LENGTH = 300;

export class PagerDutyClient {
  private readonly host: string;
  private readonly timeoutMs: number;
  private readonly rateLimitPauseMs: number;
  private readonly now: () => Date;
  private readonly agent: Agent;

  constructor(options: PagerDutyClientOptions = {}) {
    this.host = checkedHost(options.host ?? DEFAULT_EVENTS_HOST);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.rateLimitPauseMs = options.rateLimitPauseMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
    this.now = options.now ?? (() => new Date());
    this.agent = new Agent({ keepAlive: true, ...trustOptions(options.trustedCertificates ?? []) });
  }

  /** The URL pdjs's event() posts alert events to. */
  get url(): string {
    return `https://${this.host}/v2/enqueue`;
  }

  /** Sends one event; never throws — every failure is an outcome. */
  async send(event: PagerDutyEventBody): Promise<DeliveryOutcome> {
    let answer: HttpAnswer;
    try {
      answer = await this.post(JSON.stringify(event));
    } catch (error) {
      return { status: 'retry', reason: hideKey(describeFailure(error, this.host, this.timeoutMs), event.routing_key) };
    }
    return this.classify(answer, event.routing_key);
  }

  /** Closes kept-alive connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private classify(answer: HttpAnswer, routingKey: string): DeliveryOutcome {
    const { status } = answer;
    if (status === 202) return { status: 'delivered' };
    const reason = hideKey(`PagerDuty answered ${status}${answerDetail(answer.body)}`, routingKey);
    if (status === 429) return { status: 'retry', reason, retryAfterMs: parseRetryAfter(answer.retryAfter, this.now()) ?? this.rateLimitPauseMs };
    if (status >= 500 || status === 408) return { status: 'retry', reason };
    const hint = status === 400 ? '' : `; is ${this.host} the Events API v2 host?`;
    return { status: 'dead', reason: `${reason}${hint}` };
  }

  private post(body: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'pipewarden' };
      const request = httpsRequest(this.url, { method: 'POST', agent: this.agent, headers, signal: AbortSignal.timeout(this.timeoutMs) }, (response) => {
        readAnswer(response).then(resolve, reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** A host name with an optional port, nothing else: a scheme or path would make every send fail. */
function checkedHost(host: string): string {
  if (host === '' || /[/?#@\s]/.test(host) || !URL.canParse(`https://${host}`)) {
    throw new DeliveryError('pagerduty_host_invalid', `"${host}" is not an Events API host; give a host name with an optional port, e.g. events.pagerduty.com or events.eu.pagerduty.com.`);
  }
  return host;
}

/** Node's default CA store plus the extra ones; `ca` replaces the store, so the defaults are repeated. */
function trustOptions(extra: readonly string[]): { ca?: string[] } {
  if (extra.length === 0) return {};
  return { ca: [...getCACertificates('default'), ...extra] };
}

async function readAnswer(response: IncomingMessage): Promise<HttpAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    if (size < MAX_ANSWER_BYTES) chunks.push(buffer);
    size += buffer.length;
  }
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode ?? 0, retryAfter, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') };
}

/** `: message (errors…)` from PagerDuty's JSON error body, or nothing when it has none. */
function answerDetail(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return '';
  }
  if (typeof parsed !== 'object' || parsed === null) return '';
  const { message, errors } = parsed as { message?: unknown; errors?: unknown };
  const parts = [typeof message === 'string' ? message : undefined, Array.isArray(errors) ? errors.filter((item) => typeof item === 'string').join('; ') : undefined];
  const detail = parts.filter((part) => part !== undefined && part !== '').join(': ');
  return detail === '' ? '' : `: ${detail.slice(0, MAX_REASON_LENGTH)}`;
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

function describeFailure(error: unknown, host: string, timeoutMs: number): string {
  const failure = error as { name?: string; code?: string; message?: string };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return `PagerDuty (${host}) did not answer within ${timeoutMs} ms`;
  const code = failure.code === undefined ? '' : ` (${failure.code})`;
  const tls = /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_UNTRUSTED/.test(failure.code ?? '') ? '; if a proxy or private CA signs its certificate, give pipewarden that CA certificate (or start it with NODE_EXTRA_CA_CERTS)' : '';
  return `could not reach PagerDuty at ${host}${code}: ${failure.message ?? String(error)}${tls}`;
}

function hideKey(text: string, routingKey: string): string {
  return routingKey === '' ? text : text.split(routingKey).join('[routing key]');
}
