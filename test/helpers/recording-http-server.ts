// A plain-HTTP server on 127.0.0.1 that records every request exactly as it arrived (method, raw
// path with its query, headers, body) and answers from a script. Runbook tests use it as the
// service a step calls (an Airflow API, a webhook) so they see what really went over the wire;
// dry-run tests use it to prove nothing did. Scripted answers can also redirect, hang, stream an
// endless body or echo the request back, to exercise a client's timeouts, limits and redaction.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listenOnLoopback, readBody } from './loopback-server.ts';
import { RequestLog, ScriptedAnswers } from './request-log.ts';

export interface RecordedHttpRequest {
  method: string;
  /** The request target as sent: percent-encoding and query intact, e.g. `/api/v1/dags/a%2Fb?x=1`. */
  path: string;
  /** The path without the query, still percent-encoded. */
  pathname: string;
  query: URLSearchParams;
  /** Node lower-cases header names. */
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or the raw text when it is not JSON (empty string for none). */
  body: unknown;
  receivedAt: Date;
  /** Bytes of response body written so far (grows while a `stream` answer runs). */
  responseBytes: number;
  /** True once the client went away before the answer was complete. */
  clientClosedEarly: boolean;
}

export interface ScriptedHttpResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as-is when a string, else as JSON (with a JSON content-type). */
  body?: unknown;
  /** Answer the request with the request itself as JSON: `{ method, path, headers, body }`. */
  echo?: boolean;
  /** Hold the answer this long; `Infinity` never answers (the connection stays open until the client leaves). */
  delayMs?: number;
  /** Write `chunk` this many times (or until the client leaves, when `count` is omitted). */
  stream?: { chunk: string; count?: number };
}

const OK: ScriptedHttpResponse = { status: 200, body: { ok: true } };

export class RecordingHttpServer {
  private readonly log = new RequestLog<RecordedHttpRequest>();
  readonly requests: RecordedHttpRequest[] = this.log.requests;
  private readonly server: Server;
  private readonly answers = new ScriptedAnswers<ScriptedHttpResponse>(OK);
  private address: AddressInfo | undefined;

  constructor() {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch(() => response.destroy());
    });
  }

  async start(): Promise<void> {
    this.address = await listenOnLoopback(this.server);
  }

  /** `http://127.0.0.1:PORT`, no trailing slash. */
  get url(): string {
    if (!this.address) throw new Error('the recording HTTP server is not started');
    return `http://127.0.0.1:${this.address.port}`;
  }

  /** The next requests get these answers in order, then every request gets `then` (200 `{ok:true}`). Clears what was recorded. */
  respondWith(script: readonly ScriptedHttpResponse[], then: ScriptedHttpResponse = OK): void {
    this.answers.set(script, then);
    this.log.clear();
  }

  /** Resolves once `count` requests have been recorded in all (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs = 5_000): Promise<RecordedHttpRequest[]> {
    return this.log.waitFor(count, timeoutMs);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const recorded = this.record(request, await readBody(request));
    // `response` closes when the client leaves; a finished answer also closes it, so only an early close counts.
    response.once('close', () => {
      if (!response.writableFinished) recorded.clientClosedEarly = true;
    });
    const answer = this.answers.next();
    if (answer.delayMs !== undefined && !(await delay(answer.delayMs, response))) return;
    if (response.destroyed) return;
    if (answer.stream) return this.stream(answer, response, recorded);
    const { body, contentType } = answerBody(answer, recorded);
    recorded.responseBytes = Buffer.byteLength(body);
    response.writeHead(answer.status ?? 200, { 'content-type': contentType, 'content-length': String(recorded.responseBytes), ...answer.headers });
    response.end(body);
  }

  private record(request: IncomingMessage, rawBody: string): RecordedHttpRequest {
    const path = request.url ?? '';
    const queryStart = path.indexOf('?');
    const recorded: RecordedHttpRequest = {
      method: request.method ?? '',
      path,
      pathname: queryStart < 0 ? path : path.slice(0, queryStart),
      query: new URLSearchParams(queryStart < 0 ? '' : path.slice(queryStart + 1)),
      headers: request.headers,
      rawBody,
      body: parseJson(rawBody),
      receivedAt: new Date(),
      responseBytes: 0,
      clientClosedEarly: false,
    };
    this.log.record(recorded);
    return recorded;
  }

  /** Writes the chunk while the client keeps reading: waiting for `drain` keeps the server's own memory flat. */
  private async stream(answer: ScriptedHttpResponse, response: ServerResponse, recorded: RecordedHttpRequest): Promise<void> {
    const { chunk, count = Infinity } = answer.stream as { chunk: string; count?: number };
    response.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers });
    const bytes = Buffer.byteLength(chunk);
    for (let written = 0; written < count && !response.destroyed; written += 1) {
      recorded.responseBytes += bytes;
      if (!response.write(chunk)) await drained(response);
    }
    if (!response.destroyed) response.end();
  }
}

/** Resolves when the client has read what was written, or has left. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Resolves true after `ms`, or false as soon as the client leaves (so a hanging answer holds no timer after the test). */
function delay(ms: number, response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => resolve(true), ms) : undefined;
    response.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function answerBody(answer: ScriptedHttpResponse, recorded: RecordedHttpRequest): { body: string; contentType: string } {
  if (answer.echo) {
    const echoed = { method: recorded.method, path: recorded.path, headers: recorded.headers, body: recorded.body };
    return { body: JSON.stringify(echoed), contentType: 'application/json' };
  }
  if (typeof answer.body === 'string') return { body: answer.body, contentType: 'text/plain; charset=utf-8' };
  return { body: answer.body === undefined ? '' : JSON.stringify(answer.body), contentType: 'application/json' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A started recording server; stop it in afterAll. */
export async function startRecordingHttpServer(): Promise<RecordingHttpServer> {
  const server = new RecordingHttpServer();
  await server.start();
  return server;
}
