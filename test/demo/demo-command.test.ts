// `pipewarden demo` end to end, as a person runs it: a real process starts its embedded PostgreSQL,
// seeds the marketplace, sweeps it and serves /metrics; a second process breaks a feed through the
// running demo's server; SIGTERM then stops the demo, its embedded PostgreSQL included.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, isPortFree, readPostmasterPid } from '../../src/store/leftover-server.ts';
import { freePort } from '../helpers/free-port.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/pipewarden.js');
const START_TIMEOUT_MS = 60_000;
const STOP_DEADLINE_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface DemoProcess {
  child: ChildProcessWithoutNullStreams;
  messages: string[];
  output(): string;
  exited: Promise<Exit>;
  waitForMessage(pattern: RegExp, timeoutMs: number): Promise<string>;
}

function spawnDemo(args: readonly string[]): DemoProcess {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: string[] = [];
  let stdout = '';
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
      } catch {
        messages.push(line);
      }
    }
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  return {
    child,
    messages,
    output,
    exited,
    async waitForMessage(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((message) => pattern.test(message));
        if (found !== undefined) return found;
        if (done) throw new Error(`demo exited before logging ${pattern}\n${output()}`);
        if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms\n${output()}`);
        await sleep(100);
      }
    },
  };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function fetchMetrics(url: string, expected: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      last = await response.text();
      if (response.ok && last.includes(expected)) return last;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new Error(`/metrics did not show ${expected} within ${timeoutMs} ms; last answer:\n${last}`);
}

describe('pipewarden demo (real processes)', () => {
  let dir: string;
  let postgresPort: number;
  let httpPort: number;
  let demo: DemoProcess | undefined;
  let breaker: DemoProcess | undefined;
  let postmasterPid: number | undefined;

  beforeAll(async () => {
    // The embedded server runs as the `postgres` OS user when tests run as root; mkdtemp makes 0700.
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-demo-'));
    await chmod(dir, 0o755);
    postgresPort = await freePort();
    httpPort = await freePort();
  });

  afterAll(async () => {
    for (const child of [breaker?.child, demo?.child]) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all([breaker?.exited, demo?.exited]);
    // The demo was killed before it could stop its server: stop it, or it outlives the test run.
    if (postmasterPid !== undefined && isAlive(postmasterPid)) {
      process.kill(postmasterPid, 'SIGINT');
      for (let waited = 0; waited < 10_000 && isAlive(postmasterPid); waited += 100) await sleep(100);
    }
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('sweeps the seeded marketplace, serves metrics, takes --break from a second process and stops on SIGTERM', async () => {
    demo = spawnDemo(['--data-dir', dir, '--postgres-port', String(postgresPort), '--http-port', String(httpPort)]);
    const swept = await demo.waitForMessage(/^swept \d+ tables in warehouse marketplace$/, START_TIMEOUT_MS);
    expect(Number(/^swept (\d+)/.exec(swept)?.[1])).toBeGreaterThanOrEqual(3);
    postmasterPid = (await readPostmasterPid(path.join(dir, 'pgdata')))?.pid;
    expect(postmasterPid).toBeGreaterThan(0);

    const metrics = await fetchMetrics(`http://127.0.0.1:${httpPort}/metrics`, 'pipewarden_tables_monitored{warehouse="marketplace"} 3', 15_000);
    expect(metrics).toMatch(/^pipewarden_findings\{kind="freshness",status="\w+"\} \d+$/m);
    expect(metrics).toMatch(/^pipewarden_warehouse_up\{warehouse="marketplace"\} 1$/m);
    expect(metrics).toContain('pipewarden_build_info{');

    breaker = spawnDemo(['--break', 'inventory-feed', '--data-dir', dir, '--postgres-port', String(postgresPort)]);
    const broke = await within(breaker.exited, 30_000, 'demo --break');
    expect(broke.code, breaker.output()).toBe(0);
    expect(breaker.output()).toContain('inventory-feed is now broken');
    // It used the running demo's server rather than starting (and stopping) one of its own.
    expect(breaker.output()).not.toContain('the demo is not running');
    expect(isAlive(postmasterPid as number)).toBe(true);

    const signalledAt = Date.now();
    demo.child.kill('SIGTERM');
    const stopped = await within(demo.exited, STOP_DEADLINE_MS, 'demo shutdown after SIGTERM');
    expect(stopped, demo.output()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(STOP_DEADLINE_MS);
    expect(demo.messages).toContain('pipewarden stopped');

    // Its embedded PostgreSQL went with it: the postmaster is gone and the port is free again.
    for (let waited = 0; waited < 5_000 && isAlive(postmasterPid as number); waited += 100) await sleep(100);
    expect(isAlive(postmasterPid as number)).toBe(false);
    expect(await isPortFree('127.0.0.1', postgresPort)).toBe(true);
  }, 120_000);
});
