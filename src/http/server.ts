// The one HTTP server: probes, /metrics, and later the Slack and PagerDuty endpoints.
//
// Plain node:http rather than a framework: the routes are a handful of exact paths, and the
// webhook handlers to come must verify signatures over the exact bytes received, which
// frameworks' body parsers tend to consume first. So every handler gets the raw body as a Buffer
// and parses it itself.

import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. `/slack/events`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body exactly as received (empty when there was none), for signature checks. */
  rawBody: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type HttpHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port; `url` then reports the real one. */
  port: number;
  logger: Logger;
  metrics: Metrics;
  /** Larger bodies get 413 without reaching a handler. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Requests matching no route share one metric label, so scanners cannot blow up cardinality. */
const UNMATCHED_ROUTE = 'unmatched';

export function jsonResponse(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(value)}\n` };
}

function errorResponse(status: number, code: string, message: string): HttpResponse {
  return jsonResponse(status, { error: { code, message } });
}

/** Resolves to the body, or undefined when it exceeds `limit` (the rest is drained, not kept). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

export class HttpServer {
  private readonly options: HttpServerOptions;
  private readonly routes = new Map<string, Map<string, HttpHandler>>();
  private readonly server: Server;
  private address: AddressInfo | undefined;

  constructor(options: HttpServerOptions) {
    this.options = options;
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  /** Mounts a handler on an exact path. Mount everything before `listen()`. */
  route(method: HttpMethod, path: string, handler: HttpHandler): void {
    const methods = this.routes.get(path) ?? new Map<string, HttpHandler>();
    if (methods.has(method)) throw new Error(`route ${method} ${path} is already mounted`);
    methods.set(method, handler);
    this.routes.set(path, methods);
  }

  /** Starts listening; resolves to the base URL (with the real port when 0 was asked). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        this.address = this.server.address() as AddressInfo;
        resolve(this.url);
      });
    });
  }

  get url(): string {
    if (!this.address) throw new Error('the HTTP server is not listening');
    return `http://${displayHost(this.address.address)}:${this.address.port}`;
  }

  /**
   * Stops accepting connections and closes idle keep-alive ones at once; requests in progress
   * get until the deadline, after which their connections are cut.
   */
  async close(deadlineMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.options.logger.warn({ deadlineMs }, 'HTTP requests still open at the shutdown deadline; closing their connections');
      this.server.closeAllConnections();
      await closed;
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const methods = this.routes.get(url.pathname);
    const route = methods ? url.pathname : UNMATCHED_ROUTE;
    let result: HttpResponse;
    try {
      result = await this.dispatch(request, url, methods);
    } catch (error) {
      this.options.logger.error({ err: error, route, method: request.method }, `HTTP handler for ${route} failed: ${errorMessage(error)}`);
      result = errorResponse(500, 'internal_error', 'The request could not be handled; see the pipewarden log.');
    }
    try {
      this.send(response, result);
    } catch (error) {
      // A handler returned something unsendable (say, an invalid header); never crash the process.
      this.options.logger.error({ err: error, route }, `HTTP response for ${route} could not be sent: ${errorMessage(error)}`);
      response.destroy();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics.httpRequests.inc({ route, status: String(result.status) });
    this.options.metrics.httpRequestDuration.observe({ route }, seconds);
  }

  private async dispatch(request: IncomingMessage, url: URL, methods: Map<string, HttpHandler> | undefined): Promise<HttpResponse> {
    if (!methods) return errorResponse(404, 'not_found', `No route ${url.pathname}.`);
    const handler = methods.get(request.method ?? 'GET');
    if (!handler) {
      const allowed = [...methods.keys()].join(', ');
      return { ...errorResponse(405, 'method_not_allowed', `${url.pathname} accepts ${allowed}.`), headers: { 'content-type': 'application/json; charset=utf-8', allow: allowed } };
    }
    const rawBody = await readBody(request, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (!rawBody) return errorResponse(413, 'body_too_large', 'The request body is too large.');
    return handler({ method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, rawBody });
  }

  private send(response: ServerResponse, result: HttpResponse): void {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(result.status, result.headers);
    response.end(result.body);
  }
}

function displayHost(address: string): string {
  // A wildcard bind is reachable on loopback; print that so the logged URL can be clicked.
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
