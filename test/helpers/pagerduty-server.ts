// A stand-in for the PagerDuty Events API: a real HTTPS server on 127.0.0.1 with a certificate
// made at test time, that records every request and answers from a script (say 500, 500, 429 with
// Retry-After, then 202). Real TLS keeps the client honest: it has to trust the certificate the
// same way it would trust a corporate proxy's CA, never by turning verification off.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listenOnLoopback, readBody } from './loopback-server.ts';
import { RequestLog, ScriptedAnswers } from './request-log.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  receivedAt: Date;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless a string; defaults to PagerDuty's success answer for 202. */
  body?: unknown;
  /** Hold the answer this long (to exercise client timeouts). */
  delayMs?: number;
}

export interface SelfSignedCertificate {
  /** PEM certificate; also what a client must trust. */
  cert: string;
  key: string;
}

/** A fresh self-signed certificate for 127.0.0.1 (EC P-256, valid one day), made with openssl. */
export function makeSelfSignedCertificate(commonName = '127.0.0.1'): SelfSignedCertificate {
  const folder = mkdtempSync(join(tmpdir(), 'pipewarden-cert-'));
  try {
    const keyPath = join(folder, 'key.pem');
    const certPath = join(folder, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
    args.push('-keyout', keyPath, '-out', certPath, '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1');
    const run = spawnSync('openssl', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl could not make a test certificate: ${run.stderr || run.error?.message}`);
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const ACCEPTED: ScriptedResponse = { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'from-the-test-server' } };

export class PagerDutyTestServer {
  private readonly log = new RequestLog<RecordedRequest>();
  readonly requests: RecordedRequest[] = this.log.requests;
  readonly certificate: SelfSignedCertificate;
  private readonly server: Server;
  private readonly answers = new ScriptedAnswers<ScriptedResponse>(ACCEPTED);
  private address: AddressInfo | undefined;

  constructor(certificate: SelfSignedCertificate = makeSelfSignedCertificate()) {
    this.certificate = certificate;
    this.server = createServer({ cert: certificate.cert, key: certificate.key }, (request, response) => {
      void this.handle(request, response);
    });
  }

  async start(): Promise<void> {
    this.address = await listenOnLoopback(this.server);
  }

  /** `127.0.0.1:PORT`: what the client takes as its events host. */
  get host(): string {
    if (!this.address) throw new Error('the PagerDuty test server is not started');
    return `127.0.0.1:${this.address.port}`;
  }

  /**
   * The next requests get these answers in order; after the script runs out, every request gets
   * `then` (202 accepted unless told otherwise). Clears what was recorded.
   */
  respondWith(script: readonly ScriptedResponse[], then: ScriptedResponse = ACCEPTED): void {
    this.answers.set(script, then);
    this.log.clear();
  }

  /** Resolves once `count` requests have been recorded in all (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs = 5_000): Promise<RecordedRequest[]> {
    return this.log.waitFor(count, timeoutMs);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    this.log.record({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: parseJson(text), receivedAt: new Date() });
    const answer = this.answers.next();
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (response.destroyed) return;
    const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(body);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A started test server; stop it in afterAll. */
export async function startPagerDutyTestServer(certificate?: SelfSignedCertificate): Promise<PagerDutyTestServer> {
  const server = new PagerDutyTestServer(certificate);
  await server.start();
  return server;
}
