// A `pipewarden demo` (or another pipewarden command) as a real child process, for the demo's
// end-to-end tests: its JSON log parsed as it arrives (messages, console notifications, the demo
// loader's ticks), and waits with deadlines that print the whole output when they fail.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.join(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/pipewarden.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A console notification the demo logged (src/notify/console-notifier.ts). */
export interface LoggedNotification {
  at: number;
  check: string;
  status: string;
  change: string;
  msg: string;
}

export interface DemoProcess {
  child: ChildProcessWithoutNullStreams;
  messages: string[];
  notifications: LoggedNotification[];
  /** When each of the demo loader's ticks was logged, with the derived table's row count. */
  loaderTicks: Array<{ at: number; topItemsNotCarried: number }>;
  output(): string;
  exited: Promise<Exit>;
  waitForMessage(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** `pipewarden demo ARGS`; `env` is added to this process's environment. */
export function spawnDemo(args: readonly string[], env: Record<string, string> = {}): DemoProcess {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const messages: string[] = [];
  const notifications: LoggedNotification[] = [];
  const loaderTicks: DemoProcess['loaderTicks'] = [];
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
        const entry = JSON.parse(line) as { msg?: unknown; notifier?: unknown; check?: unknown; status?: unknown; change?: unknown; topItemsNotCarried?: unknown };
        messages.push(String(entry.msg));
        if (entry.msg === 'demo loader tick') loaderTicks.push({ at: Date.now(), topItemsNotCarried: Number(entry.topItemsNotCarried) });
        if (entry.notifier === 'console') {
          notifications.push({ at: Date.now(), check: String(entry.check), status: String(entry.status), change: String(entry.change), msg: String(entry.msg) });
        }
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
    notifications,
    loaderTicks,
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

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function waitForNotification(demo: DemoProcess, check: string, change: string, timeoutMs: number): Promise<LoggedNotification> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = demo.notifications.find((notification) => notification.check === check && notification.change === change);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${change} notification for ${check} within ${timeoutMs} ms\n${demo.output()}`);
    await sleep(200);
  }
}

/** Runs another pipewarden command (not the demo) to completion. */
export async function runPipewarden(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 30_000, `pipewarden ${args.join(' ')}`);
  return { code, stdout, stderr };
}
