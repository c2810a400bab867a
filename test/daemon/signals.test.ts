// SIGTERM and SIGINT against a real `pipewarden start` process, in the middle of a sweep made slow
// on purpose: the monitored relations are views whose every read sleeps in the warehouse.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { daemonConfigInput } from './daemon-config.ts';

const BIN = path.join(import.meta.dirname, '../../bin/pipewarden.js');

interface DaemonProcess {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, unknown>[];
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startDaemonProcess(configPath: string): DaemonProcess {
  const child = spawn(process.execPath, [BIN, 'start', '--config', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((candidate) => candidate.match(line))) waiter.resolve(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return {
    child,
    lines,
    exited,
    waitForLine(match, timeoutMs = 20_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; log: ${lines.map((l) => l.msg).join(' | ')}`)), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then(() => reject(new Error(`daemon exited early; stderr: ${stderr}; log: ${lines.map((l) => l.msg).join(' | ')}`)));
      });
    },
  };
}

const messages = (daemon: DaemonProcess): string[] => daemon.lines.map((line) => String(line.msg));
const withMessage = (text: string) => (line: Record<string, unknown>) => String(line.msg).includes(text);

describe('pipewarden start under signals', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
    // Each read of a slow_* view takes 700 ms in the warehouse: freshness checks them one by one.
    const views = [1, 2, 3, 4, 5, 6].map((n) => `create view public.slow_${n} as select now() as loaded_at from pg_sleep(0.7)`);
    await warehouse.pool().query(views.join(';'));
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-signals-'));
  });
  afterAll(async () => {
    await Promise.all([state.drop(), warehouse.drop(), rm(dir, { recursive: true, force: true })]);
  });

  async function writeConfig(name: string, shutdownTimeout: string): Promise<string> {
    const input = daemonConfigInput(state.url, { analytics: warehouse.url }, {
      shutdown_timeout: shutdownTimeout,
      monitors: [{ assets: ['analytics.public.slow_*'], freshness: { column: 'loaded_at' } }],
    });
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(file, stringify(input));
    return file;
  }

  it('SIGTERM mid-sweep lets the sweep finish, shuts down in order and exits 0 within the deadline', async () => {
    const daemon = startDaemonProcess(await writeConfig('graceful', '15s'));
    await daemon.waitForLine(withMessage('pipewarden started'));
    await daemon.waitForLine(withMessage('swept 6 tables'));
    const signalledAt = performance.now();
    daemon.child.kill('SIGTERM');
    const { code, at } = await daemon.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(15_000 + 3_000);
    const log = messages(daemon);
    const order = ['received SIGTERM', 'pipewarden stopping', 'sweep finished', 'in-flight work finished', 'warehouses and state database closed', 'pipewarden stopped'];
    const positions = order.map((text) => log.findIndex((message) => message.includes(text)));
    expect(positions.every((position) => position >= 0), `log: ${log.join(' | ')}`).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('aborts a sweep that outlives shutdown_timeout and exits 1', async () => {
    const daemon = startDaemonProcess(await writeConfig('deadline', '1s'));
    await daemon.waitForLine(withMessage('swept 6 tables'));
    const signalledAt = performance.now();
    daemon.child.kill('SIGTERM');
    const { code, at } = await daemon.exited;
    expect(code).toBe(1);
    expect(at - signalledAt).toBeLessThan(1_000 + 3_000);
    const log = messages(daemon);
    expect(log.some((message) => message.includes('shutdown deadline reached; aborting sweep')), `log: ${log.join(' | ')}`).toBe(true);
    expect(log.some((message) => message.includes('pipewarden stopped'))).toBe(true);
  });

  it('a second signal forces an immediate exit with 128+signal', async () => {
    const daemon = startDaemonProcess(await writeConfig('forced', '30s'));
    await daemon.waitForLine(withMessage('swept 6 tables'));
    daemon.child.kill('SIGINT');
    await daemon.waitForLine(withMessage('pipewarden stopping'));
    const signalledAt = performance.now();
    daemon.child.kill('SIGTERM');
    const { code, at } = await daemon.exited;
    expect(code).toBe(143);
    expect(at - signalledAt).toBeLessThan(1_500);
    expect(messages(daemon).some((message) => message.includes('second signal SIGTERM: forced exit'))).toBe(true);
    expect(messages(daemon).some((message) => message.includes('pipewarden stopped'))).toBe(false);
  });
});
