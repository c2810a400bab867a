// Finds an embedded PostgreSQL already running on the data folder. Either a running pipewarden
// owns it (the daemon, while someone runs `pipewarden migrate`), or a previous pipewarden died
// without stopping it (crash, SIGKILL: no exit hook ran). Such a server holds the data folder's
// lock, so a fresh start would fail; connecting to it instead is what the person wants.

import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { errorMessage, StateError } from '../errors.ts';

export interface LeftoverServer {
  pid: number;
}

const CONNECT_ATTEMPTS = 20;
const CONNECT_PAUSE_MS = 250;
const STOP_WAIT_MS = 30_000;

/** Resolves to the running server that owns `dataDir`, or undefined when none runs. */
export async function findLeftoverServer(dataDir: string, port: number, adminUrl: string): Promise<LeftoverServer | undefined> {
  const lock = await readPostmasterPid(dataDir);
  if (lock === undefined || !isAlive(lock.pid)) return undefined;
  if (lock.port !== port) {
    throw new StateError(
      'state_embedded_running_elsewhere',
      `The embedded PostgreSQL in ${dataDir} is already running (pid ${lock.pid}) on port ${lock.port}, not on the configured port ${port}. ` +
        `Stop it ("kill -INT ${lock.pid}") or set state.embedded.port to ${lock.port}.`,
    );
  }
  // The pid may belong to an unrelated process after a reboot; then nothing listens and a
  // normal start (which clears the stale lock file) is right.
  if (await isPortFree('127.0.0.1', port)) return undefined;
  await waitUntilAccepting(adminUrl, dataDir, lock.pid);
  return { pid: lock.pid };
}

/** The first and fourth lines of postmaster.pid are the postmaster's pid and port. */
export async function readPostmasterPid(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  return Number.isInteger(pid) && Number.isInteger(port) ? { pid, port } : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilAccepting(adminUrl: string, dataDir: string, pid: number): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
    const client = new pg.Client({ connectionString: adminUrl, application_name: 'pipewarden', connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
      await sleep(CONNECT_PAUSE_MS);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new StateError(
    'state_embedded_unresponsive',
    `An embedded PostgreSQL (pid ${pid}) is running in ${dataDir} but does not accept pipewarden's connections (${errorMessage(lastError)}). ` +
      `Stop it ("kill -INT ${pid}") and start pipewarden again.`,
    { cause: lastError },
  );
}

/**
 * `<dir>/owner.pid` names the pipewarden process that started (or adopted) the server. A live
 * owner means the server is in use, not left over: then it is shared, never stopped by others.
 */
export async function readServerOwner(dir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function writeServerOwner(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'owner.pid'), `${process.pid}\n`, { mode: 0o644 });
}

export async function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fast shutdown (SIGINT) of a server this process did not spawn, waiting until it is gone. */
export async function stopProcess(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new StateError('state_embedded_stop_failed', `The embedded PostgreSQL (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000}s.`);
    }
    await sleep(100);
  }
}
