// A stand-in for the Slack Web API on 127.0.0.1 (what `slackApiUrl` points the WebClient at):
// records each call as the method name, its arguments (form-encoded or JSON, with `blocks`
// parsed back from the JSON string the WebClient sends) and the Authorization header, and
// answers from a script. Once the script runs out every call succeeds with a ts that counts up,
// like Slack's: `1700000000.000100`, `1700000000.000200`, …

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listenOnLoopback, readBody } from './loopback-server.ts';
import { RequestLog } from './request-log.ts';

export interface SlackApiCall {
  /** `chat.postMessage`, `chat.update`, … */
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

export interface SlackApiAnswer {
  /** HTTP status; 200 unless given. */
  status?: number;
  headers?: Record<string, string>;
  /** JSON body, e.g. `{ ok: false, error: 'channel_not_found' }`; `{}` for non-200 answers unless given. */
  body?: unknown;
}

export const SLACK_CHANNEL_ID = 'C0INVENTORY';

/** The ts of the n-th successful answer since the last `respondWith` (1-based). */
export function slackTs(n: number): string {
  return `1700000000.${String(n * 100).padStart(6, '0')}`;
}

export class SlackApiTestServer {
  private readonly log = new RequestLog<SlackApiCall>();
  readonly calls: SlackApiCall[] = this.log.requests;
  private readonly server: Server;
  private script: SlackApiAnswer[] = [];
  private successes = 0;
  private address: AddressInfo | undefined;

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then((raw) => {
        const method = (request.url ?? '').replace(/^\/api\//, '').replace(/\?.*$/, '');
        this.log.record({ method, args: parseArgs(String(request.headers['content-type'] ?? ''), raw), authorization: request.headers.authorization });
        const answer = this.script.shift() ?? this.success();
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        response.end(JSON.stringify(answer.body ?? {}));
      }, () => response.destroy());
    });
  }

  async start(): Promise<void> {
    this.address = await listenOnLoopback(this.server);
  }

  /** The Web API base URL, ending in a slash like Slack's: `http://127.0.0.1:PORT/api/`. */
  get url(): string {
    if (!this.address) throw new Error('the Slack API test server is not started');
    return `http://127.0.0.1:${this.address.port}/api/`;
  }

  /** The next calls get these answers in order, then every call succeeds. Clears the log and the ts count. */
  respondWith(script: readonly SlackApiAnswer[]): void {
    this.script = [...script];
    this.successes = 0;
    this.log.clear();
  }

  waitForCalls(count: number, timeoutMs = 5_000): Promise<SlackApiCall[]> {
    return this.log.waitFor(count, timeoutMs);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  private success(): SlackApiAnswer {
    this.successes += 1;
    return { status: 200, body: { ok: true, channel: SLACK_CHANNEL_ID, ts: slackTs(this.successes) } };
  }
}

function parseArgs(contentType: string, raw: string): Record<string, unknown> {
  const args: Record<string, unknown> = contentType.includes('json') ? (JSON.parse(raw) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
  if (typeof args.blocks === 'string') args.blocks = JSON.parse(args.blocks) as unknown;
  return args;
}

/** A started fake Slack Web API; stop it in afterAll. */
export async function startSlackApiTestServer(): Promise<SlackApiTestServer> {
  const server = new SlackApiTestServer();
  await server.start();
  return server;
}
