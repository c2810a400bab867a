// The `http` action: one HTTP request to a service's API, e.g. asking Airflow to clear and re-run
// the failed tasks of the DAG that loads a stale table.
//
//   - name: rerun-dag
//     action: http
//     with:
//       method: POST
//       url: https://airflow.internal/api/v1/dags     # Airflow 3: https://airflow.internal/api/v2/dags
//       path: ["${finding.dag_id}", clearTaskInstances]  # → /api/v1/dags/<dag_id>/clearTaskInstances
//       headers: { Authorization: "Bearer ${secrets.AIRFLOW_TOKEN}" }
//       json: { dry_run: false, only_failed: true, reset_dag_runs: true }
//       expect_status: [200]
//       idempotent: true       # clearing the same failed tasks twice does no harm
//
// Finding-derived values go into `path` (each element becomes one percent-encoded segment, so a
// value cannot add `/..`, `?` or `#`) or `query`, never into `url` itself. Credentials travel in
// `headers` from `${secrets.NAME}`: the binder keeps them out of the recorded inputs, and this
// action keeps header values out of its messages and outputs (and scrubs them from response
// bodies that echo them). Redirects are reported, not followed, so a token is never sent on to a
// host the runbook did not name. Response bodies are read up to `max_response_bytes` and no further.

import { context as traceContext, propagation } from '@opentelemetry/api';
import { z } from 'zod';
import { duration } from '../../config/schema.ts';
import { formatDuration } from '../../config/duration.ts';
import { StepFailedError } from '../action.ts';
import type { ActionContext, RunbookAction, StepOutputs } from '../action.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** Methods whose repetition leaves the same state (RFC 9110 §9.2.2); POST and PATCH may not. */
const IDEMPOTENT_METHODS: ReadonlySet<Method> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Response headers worth showing in a run's record; anything else (cookies, tokens) stays out. */
const SHOWN_RESPONSE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'x-request-id'];

/** Request headers whose values are not secrets; every other value is scrubbed from what the response echoes. */
const PLAIN_REQUEST_HEADERS = new Set(['accept', 'accept-encoding', 'accept-language', 'content-type', 'user-agent', 'cache-control', 'prefer']);

const EXCERPT_CHARS = 300;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What fetch refuses in a header value (line breaks, controls, beyond Latin-1); checked first so no error quotes the value. */
const UNSENDABLE = /[^\t\u0020-\u007e\u0080-\u00ff]/;

const url = z.string({ error: 'expected an absolute http(s) URL' }).superRefine((text, ctx) => {
  const problem = urlProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const headers = z.record(z.string(), z.string({ error: 'expected a header value as a string' })).superRefine((record, ctx) => {
  for (const [name, value] of Object.entries(record)) {
    // Only the name is named: the value may be a token.
    if (!TOKEN.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid header name` });
    else if (UNSENDABLE.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: `the value of header "${name}" contains a line break or a character HTTP headers cannot carry` });
  }
});

const queryValue = z.union([z.string(), z.number(), z.boolean()]);

export const httpInputSchema = z
  .strictObject({
    method: z
      .preprocess((value) => (typeof value === 'string' ? value.toUpperCase() : value), z.enum(METHODS))
      .default('GET')
      .describe('GET, HEAD, POST, PUT, PATCH or DELETE.'),
    url: url.describe('Absolute http(s) URL without credentials; put finding-derived values in `path` or `query`, not here.'),
    path: z.array(z.union([z.string(), z.number()])).optional().describe('Segments appended to the URL path, each percent-encoded as one segment.'),
    query: z.record(z.string(), z.union([queryValue, z.array(queryValue)])).optional().describe('Query parameters added to the URL; a list repeats the key.'),
    headers: headers.optional().describe('Request headers; credentials as `${secrets.NAME}`. Values never appear in messages or outputs.'),
    json: z.unknown().optional().describe('Request body, sent as JSON.'),
    expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional().describe('Accepted status codes; default any 2xx.'),
    timeout: duration.prefault('30s').describe('Give up when the whole answer has not arrived after this long (the step timeout still applies).'),
    idempotent: z.boolean().optional().describe('Default: true for GET, HEAD, PUT and DELETE.'),
    max_response_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024).describe('Read at most this much of the response body; the rest is dropped.'),
  })
  .superRefine((input, ctx) => {
    if (input.json !== undefined && (input.method === 'GET' || input.method === 'HEAD')) {
      ctx.addIssue({ code: 'custom', path: ['json'], message: `a ${input.method} request cannot have a body; use POST, PUT or PATCH, or send the values as query` });
    }
  });

export type HttpInput = z.output<typeof httpInputSchema>;

function urlProblem(text: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    // Quoted only when it cannot hold credentials.
    return `expected an absolute http(s) URL like "https://airflow.internal/api/v2/dags"${text.includes('@') ? '' : `, got "${text}"`}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `expected an http or https URL, got "${parsed.protocol}"`;
  if (parsed.username || parsed.password) {
    // The URL is recorded and shown: name the problem, never echo it.
    return 'the URL carries credentials (user:password@); send them in headers from secrets instead, e.g. headers: { Authorization: "Bearer ${secrets.NAME}" }';
  }
  return undefined;
}

/** The URL to call: `path` segments appended one by one, `query` added to any the URL has. */
export function requestUrl(input: Pick<HttpInput, 'url' | 'path' | 'query'>): URL {
  const target = new URL(input.url);
  if (input.path?.length) {
    const segments = input.path.map((segment) => {
      const text = String(segment);
      // URL parsing collapses "." and ".." (even encoded as %2E) into a move up the tree; no encoding makes them one segment.
      if (text === '' || text === '.' || text === '..') throw new StepFailedError(`path segment "${text}" is empty or a dot segment, which would change the URL's path`);
      return encodeURIComponent(text);
    });
    target.pathname = `${target.pathname.replace(/\/+$/, '')}/${segments.join('/')}`;
  }
  for (const [key, value] of Object.entries(input.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) target.searchParams.append(key, String(item));
  }
  return target;
}

function requestHeaders(input: HttpInput): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(input.headers ?? {})) result.set(name, value);
  if (input.json !== undefined && !result.has('content-type')) result.set('content-type', 'application/json');
  // The step span's W3C trace context (traceparent, tracestate), so the called service's traces join
  // the run's; none when tracing is off. A header the runbook sets itself wins.
  const trace: Record<string, string> = {};
  propagation.inject(traceContext.active(), trace);
  for (const [name, value] of Object.entries(trace)) if (!result.has(name)) result.set(name, value);
  return result;
}

/** Strings a response must not repeat: header values that may be credentials, and the token of "Bearer <token>". */
function secretValues(input: HttpInput): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (PLAIN_REQUEST_HEADERS.has(name.toLowerCase())) continue;
    const token = /^\S+ (\S{6,})$/.exec(value)?.[1];
    values.push(value, ...(token ? [token] : []));
  }
  return values.filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join('[secret]'), text);
}

interface ReadBody {
  text: string;
  truncated: boolean;
}

/**
 * Reads at most `limit` bytes, then cancels the rest: a huge or endless body costs `limit` plus
 * one network chunk, not its size.
 */
async function readBounded(response: Response, limit: number): Promise<ReadBody> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
    if (value.byteLength > limit - size) {
      chunks.push(value.subarray(0, limit - size));
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
}

function responseBody(text: string, truncated: boolean, contentType: string | null): unknown {
  if (truncated || !contentType || !/[/+]json\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function shownHeaders(response: Response, target: URL): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const name of SHOWN_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value === null) continue;
    if (name !== 'location') shown[name] = value;
    else if (URL.canParse(value, target.href)) {
      // A redirect target may be a pre-signed URL: keep where it points, not its query or credentials.
      const location = new URL(value, target);
      shown[name] = `${location.origin}${location.pathname}`;
    }
  }
  return shown;
}

const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing is listening there; is the service up and the port right?',
  ENOTFOUND: 'the host name does not resolve; check the URL',
  EAI_AGAIN: 'DNS did not answer; try again or check the resolver',
  ECONNRESET: 'the connection was reset by the other side or a proxy',
  UND_ERR_CONNECT_TIMEOUT: 'connecting took too long; is a firewall dropping packets?',
};

/** Undici reports "fetch failed" with the system error as its cause (an AggregateError when several addresses were tried). */
function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One request in flight: what messages and outputs need to describe it. */
interface Call {
  input: HttpInput;
  context: ActionContext;
  target: URL;
  /** `POST https://host/path`: no query (it may carry values) and no header. */
  label: string;
  timeout: AbortSignal;
  started: number;
}

function elapsed(call: Call): number {
  return Math.round(performance.now() - call.started);
}

function failure(error: unknown, call: Call): StepFailedError {
  const outputs = { duration_ms: elapsed(call) };
  if (call.context.signal.aborted) return new StepFailedError(`${call.label}: interrupted (the step's deadline passed or the daemon is stopping)`, outputs);
  if (call.timeout.aborted) {
    return new StepFailedError(`${call.label}: no complete answer within ${formatDuration(call.input.timeout)}; raise with.timeout if the service is slow`, outputs);
  }
  const code = networkCode(error);
  const hint = code ? NETWORK_HINTS[code] : undefined;
  // Only the code is kept, never the error's own message or cause: those can quote header values.
  return new StepFailedError(`${call.label}: could not reach ${call.target.host} (${code ?? 'request failed'})${hint ? `: ${hint}` : ''}`, outputs);
}

async function exchange(call: Call): Promise<StepOutputs> {
  const { input, target } = call;
  const response = await fetch(target, {
    method: input.method,
    headers: requestHeaders(input),
    body: input.json === undefined ? undefined : JSON.stringify(input.json),
    redirect: 'manual',
    signal: AbortSignal.any([call.context.signal, call.timeout]),
  });
  const read = await readBounded(response, input.max_response_bytes);
  const text = scrub(read.text, secretValues(input));
  const outputs = {
    status: response.status,
    body: responseBody(text, read.truncated, response.headers.get('content-type')),
    body_truncated: read.truncated,
    headers: shownHeaders(response, target),
    duration_ms: elapsed(call),
  };
  if (!statusExpected(response.status, input.expect_status)) throw unexpectedStatus(call, text, outputs);
  return outputs;
}

async function send(input: HttpInput, context: ActionContext): Promise<StepOutputs> {
  const target = requestUrl(input);
  const call: Call = { input, context, target, label: `${input.method} ${target.origin}${target.pathname}`, timeout: AbortSignal.timeout(input.timeout), started: performance.now() };
  try {
    return await exchange(call);
  } catch (error) {
    if (error instanceof StepFailedError) throw error;
    throw failure(error, call);
  }
}

function statusExpected(status: number, expected: readonly number[] | undefined): boolean {
  return expected ? expected.includes(status) : status >= 200 && status < 300;
}

function unexpectedStatus(call: Call, text: string, outputs: { status: number; headers: Record<string, string> }): StepFailedError {
  const { status, headers: shown } = outputs;
  const wanted = call.input.expect_status ? call.input.expect_status.join(', ') : 'a 2xx';
  const redirect = status >= 300 && status < 400 ? ` (a redirect to ${shown.location ?? 'an unnamed location'}, not followed: call the final URL)` : '';
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, EXCERPT_CHARS);
  return new StepFailedError(`${call.label} answered ${status}${redirect}, expected ${wanted}${excerpt ? `: ${excerpt}` : ''}`, outputs);
}

export const httpAction: RunbookAction<HttpInput> = {
  name: 'http',
  input: httpInputSchema,
  idempotent: (input) => input.idempotent ?? IDEMPOTENT_METHODS.has(input.method),
  destructive: (input) => input.method !== 'GET' && input.method !== 'HEAD',
  checkDefinition(withValue) {
    // A secret in the URL ends up in access logs and in messages; the binder can only hide it from the record.
    const inUrl = [withValue.url, ...(Array.isArray(withValue.path) ? withValue.path : [])];
    return inUrl.some((value) => typeof value === 'string' && value.includes('${secrets.'))
      ? ['url/path use ${secrets.…}; send credentials in headers instead, e.g. headers: { Authorization: "Bearer ${secrets.NAME}" }']
      : [];
  },
  run: send,
};
