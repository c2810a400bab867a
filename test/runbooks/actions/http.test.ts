import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDestructive, isIdempotent, StepFailedError } from '../../../src/runbooks/action.ts';
import type { ActionContext, StepOutputs } from '../../../src/runbooks/action.ts';
import { httpAction } from '../../../src/runbooks/actions/http.ts';
import { testActionContext } from '../../helpers/action-context.ts';
import { freePort } from '../../helpers/free-port.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../../helpers/recording-http-server.ts';

const SECRET = 'tok-S3CRET-0123456789abcdef';

function run(withValue: Record<string, unknown>, context: ActionContext = testActionContext()): Promise<StepOutputs> {
  return httpAction.run(httpAction.input.parse(withValue), context);
}

/** The StepFailedError a call ends with (fails the test when it succeeds or throws something else). */
async function failureOf(promise: Promise<unknown>): Promise<StepFailedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepFailedError);
  return error as StepFailedError;
}

describe('http action against a loopback server', () => {
  let server: RecordingHttpServer;
  let other: RecordingHttpServer;

  beforeAll(async () => {
    server = await startRecordingHttpServer();
    other = await startRecordingHttpServer();
  });

  afterAll(async () => {
    await server.stop();
    await other.stop();
  });

  beforeEach(() => {
    server.respondWith([]);
    other.respondWith([]);
  });

  it('sends method, path segments, query, headers and the JSON body exactly as written', async () => {
    const json = { dry_run: false, only_failed: true, note: 'é "quoted"' };
    const outputs = await run({
      method: 'post',
      url: `${server.url}/api/v1/dags`,
      path: ['daily_inventory', 'clearTaskInstances'],
      query: { limit: 5, tag: ['a', 'b c'] },
      headers: { 'X-Team': 'inventory' },
      json,
    });
    const [request] = await server.waitForRequests(1);
    expect(request?.method).toBe('POST');
    expect(request?.pathname).toBe('/api/v1/dags/daily_inventory/clearTaskInstances');
    expect([...(request?.query ?? [])]).toEqual([['limit', '5'], ['tag', 'a'], ['tag', 'b c']]);
    expect(request?.headers['x-team']).toBe('inventory');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.rawBody).toBe(JSON.stringify(json));
    expect(outputs).toMatchObject({ status: 200, body: { ok: true }, body_truncated: false, headers: { 'content-type': 'application/json' } });
    expect(outputs.duration_ms).toEqual(expect.any(Number));
  });

  it('sends a GET with no body by default and returns a text body as text', async () => {
    server.respondWith([{ status: 200, body: 'all good', headers: { 'x-request-id': 'r-1', 'set-cookie': 'session=abc' } }]);
    const outputs = await run({ url: `${server.url}/health?verbose=1` });
    const [request] = await server.waitForRequests(1);
    expect(request).toMatchObject({ method: 'GET', path: '/health?verbose=1', rawBody: '' });
    expect(request?.headers['content-type']).toBeUndefined();
    expect(outputs.body).toBe('all good');
    expect(outputs.headers).toEqual({ 'content-type': 'text/plain; charset=utf-8', 'content-length': '8', 'x-request-id': 'r-1' });
  });

  it.each(['../admin', 'a/b?x=1#y', '$(rm -rf /)', '%2e%2e'])('keeps the hostile path segment %j as one encoded segment', async (segment) => {
    await run({ url: `${server.url}/api/items/`, path: [segment, 'tail'] });
    const [request] = await server.waitForRequests(1);
    expect(request?.path).toBe(`/api/items/${encodeURIComponent(segment)}/tail`);
    expect(request?.pathname.split('/')).toHaveLength(5);
    expect([...(request?.query ?? [])]).toEqual([]);
  });

  it.each(['..', '.', ''])('refuses the dot or empty path segment %j without sending anything', async (segment) => {
    const error = await failureOf(run({ url: `${server.url}/api/items`, path: [segment] }));
    expect(error.message).toMatch(/path segment/);
    expect(server.requests).toHaveLength(0);
  });

  it('passes on a listed status and fails on any other with the status and a body excerpt', async () => {
    server.respondWith([{ status: 201, body: { created: 1 } }, { status: 200, body: { created: 0 } }, { status: 500, body: 'dag daily_inventory is paused\n' }]);
    expect(await run({ method: 'POST', url: server.url, expect_status: [201] })).toMatchObject({ status: 201, body: { created: 1 } });
    const unlisted = await failureOf(run({ method: 'POST', url: server.url, expect_status: [201] }));
    expect(unlisted.message).toMatch(/answered 200, expected 201: \{"created":0\}/);
    const serverError = await failureOf(run({ url: `${server.url}/api/v2/dags` }));
    expect(serverError.message).toBe(`GET ${server.url}/api/v2/dags answered 500, expected a 2xx: dag daily_inventory is paused`);
    expect(serverError.outputs).toMatchObject({ status: 500, body: 'dag daily_inventory is paused\n' });
  });

  it('gives up on a server that never answers once the timeout passes', async () => {
    server.respondWith([{ delayMs: Infinity }]);
    const started = Date.now();
    const error = await failureOf(run({ url: `${server.url}/slow`, timeout: '200ms' }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toMatch(/no complete answer within 200ms/);
    await expect.poll(() => server.requests[0]?.clientClosedEarly).toBe(true);
  }, 10_000);

  it('stops when the step is interrupted, well before its own timeout', async () => {
    server.respondWith([{ delayMs: Infinity }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failureOf(run({ url: server.url, timeout: '1m' }, testActionContext({ signal: controller.signal })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toMatch(/interrupted/);
  }, 10_000);

  it('reports a redirect instead of following it, so the Authorization header stays with the named host', async () => {
    server.respondWith([{ status: 302, headers: { location: `${other.url}/collect?sig=abc` } }], { status: 302, headers: { location: `${other.url}/collect?sig=abc` } });
    const error = await failureOf(run({ url: server.url, headers: { Authorization: `Bearer ${SECRET}` } }));
    expect(error.message).toMatch(new RegExp(`answered 302 \\(a redirect to ${other.url}/collect, not followed`));
    const outputs = await run({ url: server.url, expect_status: [302] });
    expect(outputs).toMatchObject({ status: 302, headers: { location: `${other.url}/collect` } });
    expect(server.requests).toHaveLength(2);
    expect(other.requests).toHaveLength(0);
  });

  it('reads an endless body only up to max_response_bytes, then hangs up', async () => {
    server.respondWith([], { stream: { chunk: 'x'.repeat(16_384) }, headers: { 'content-type': 'application/json' } });
    const small = await run({ url: server.url, max_response_bytes: 1_000 });
    expect(small).toMatchObject({ status: 200, body: 'x'.repeat(1_000), body_truncated: true });
    const byDefault = await run({ url: server.url });
    expect(byDefault.body).toHaveLength(64 * 1024);
    await expect.poll(() => server.requests.every((request) => request.clientClosedEarly)).toBe(true);
    // What the server managed to push before the hang-up is socket buffers, not the whole (endless) body.
    expect(Math.max(...server.requests.map((request) => request.responseBytes))).toBeLessThan(16 * 1024 * 1024);
  }, 10_000);

  it('parses a JSON body of exactly max_response_bytes, but never a truncated one that happens to parse', async () => {
    const body = JSON.stringify({ pad: 'y'.repeat(100) });
    server.respondWith([{ status: 200, body: JSON.parse(body) as unknown }, { status: 200, body: 123456789 }]);
    expect(await run({ url: server.url, max_response_bytes: Buffer.byteLength(body) })).toMatchObject({ body: { pad: 'y'.repeat(100) }, body_truncated: false });
    expect(await run({ url: server.url, max_response_bytes: 4 })).toMatchObject({ body: '1234', body_truncated: true });
  });

  it('keeps a secret header value out of messages and outputs, even when the server echoes it', async () => {
    const headers = { Authorization: `Bearer ${SECRET}`, 'X-Api-Key': `${SECRET}-2` };
    server.respondWith([{ status: 500, echo: true }, { status: 200, echo: true }]);
    const failed = await failureOf(run({ url: server.url, headers }));
    const succeeded = await run({ url: server.url, headers });
    const [request] = await server.waitForRequests(1);
    expect(request?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify(succeeded)).toMatch(/\[secret\]/);

    const refused = await failureOf(run({ url: `http://127.0.0.1:${await freePort()}/`, headers }));
    server.respondWith([{ delayMs: Infinity }]);
    const timedOut = await failureOf(run({ url: server.url, headers, timeout: '100ms' }));
    const texts = [failed.message, JSON.stringify(failed.outputs), JSON.stringify(succeeded), refused.message, timedOut.message];
    for (const text of texts) expect(text).not.toContain('S3CRET');
  }, 10_000);

  it('names the header, never its value, when a header value cannot be sent', () => {
    const parsed = httpAction.input.safeParse({ url: server.url, headers: { Authorization: `Bearer ${SECRET}\r\nX-Injected: 1` } });
    expect(parsed.success).toBe(false);
    const messages = parsed.error?.issues.map((issue) => issue.message).join('\n');
    expect(messages).toMatch(/header "Authorization" contains a line break/);
    expect(messages).not.toContain('S3CRET');
    const latin = httpAction.input.safeParse({ url: server.url, headers: { 'X-Token': `${SECRET}→` } });
    expect(latin.error?.issues.map((issue) => issue.message)).toEqual(['the value of header "X-Token" contains a line break or a character HTTP headers cannot carry']);
  });

  it('names host and error code when nothing listens', async () => {
    const port = await freePort();
    const error = await failureOf(run({ url: `http://127.0.0.1:${port}/api/v1/health` }));
    expect(error.message).toBe(`GET http://127.0.0.1:${port}/api/v1/health: could not reach 127.0.0.1:${port} (ECONNREFUSED): nothing is listening there; is the service up and the port right?`);
  });
});

describe('http action inputs', () => {
  const flags = (withValue: Record<string, unknown>): [boolean, boolean] => {
    const input = httpAction.input.parse({ url: 'https://airflow.internal/api/v2/dags', ...withValue });
    return [isIdempotent(httpAction, input), isDestructive(httpAction, input)];
  };

  it('is idempotent by method unless the step says otherwise, and destructive for anything but GET and HEAD', () => {
    expect(flags({})).toEqual([true, false]);
    expect(flags({ method: 'HEAD' })).toEqual([true, false]);
    expect(flags({ method: 'PUT' })).toEqual([true, true]);
    expect(flags({ method: 'DELETE' })).toEqual([true, true]);
    expect(flags({ method: 'POST' })).toEqual([false, true]);
    expect(flags({ method: 'PATCH' })).toEqual([false, true]);
    expect(flags({ method: 'POST', idempotent: true })).toEqual([true, true]);
    expect(flags({ method: 'GET', idempotent: false })).toEqual([false, false]);
  });

  it('refuses credentials in the URL without repeating them, and says to use headers with secrets', () => {
    const parsed = httpAction.input.safeParse({ url: 'https://admin:hunter2@airflow.internal/api/v2/dags' });
    const text = parsed.error?.issues.map((issue) => issue.message).join('\n');
    expect(text).toMatch(/credentials.*headers.*\$\{secrets\.NAME\}/);
    expect(text).not.toContain('hunter2');
  });

  it('refuses URLs that are not absolute http(s), bodies on GET, and unknown methods', () => {
    expect(httpAction.input.safeParse({ url: '/api/v2/dags' }).success).toBe(false);
    expect(httpAction.input.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(httpAction.input.safeParse({ url: 'https://a.example', json: { x: 1 } }).success).toBe(false);
    expect(httpAction.input.safeParse({ url: 'https://a.example', method: 'TRACE' }).success).toBe(false);
    expect(httpAction.input.parse({ url: 'https://a.example' })).toMatchObject({ method: 'GET', timeout: 30_000, max_response_bytes: 65_536 });
  });

  it('flags secrets written into the URL or path at load time', () => {
    expect(httpAction.checkDefinition?.({ url: 'https://a.example/?token=${secrets.T}' })).toHaveLength(1);
    expect(httpAction.checkDefinition?.({ url: 'https://a.example', path: ['${secrets.T}'] })).toHaveLength(1);
    expect(httpAction.checkDefinition?.({ url: 'https://a.example', headers: { Authorization: 'Bearer ${secrets.T}' } })).toEqual([]);
  });
});
