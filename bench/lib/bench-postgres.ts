// The embedded PostgreSQL each benchmark starts for itself, in a throwaway folder, on a free
// port, and always stops — on success, on error and on Ctrl-C — so a benchmark never leaves a
// server or a data folder behind. Durability is off: nothing here is worth keeping.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../../test/helpers/free-port.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/store/embedded-postgres.ts';

export interface BenchPostgres {
  /** Connection URL of a database on the server (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
}

export interface BenchPostgresOptions {
  /** Extra server settings on top of the fast, non-durable defaults. */
  settings?: Readonly<Record<string, string>>;
}

const FAST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } as const;

/** A logger that stays silent unless BENCH_LOG names a level (to debug a failing benchmark). */
export function benchLogger(): Logger {
  return pino({ level: process.env.BENCH_LOG ?? 'silent' }, pino.destination(2));
}

/** Runs `work` against a fresh embedded PostgreSQL and stops it afterwards, whatever happens. */
export async function withBenchPostgres<T>(work: (server: BenchPostgres) => Promise<T>, options: BenchPostgresOptions = {}): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-bench-'));
  // When run as root the server runs as the `postgres` OS user, which must reach the folder.
  await chmod(dir, 0o755);
  let handle: EmbeddedPostgresHandle | undefined;
  const cleanUp = async (): Promise<void> => {
    await handle?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  // Ctrl-C would otherwise kill the process without stopping the server it started.
  const onSignal = (): void => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    handle = await startEmbeddedPostgres({
      dir,
      port: await freePort(),
      logger: benchLogger(),
      settings: { ...FAST_SETTINGS, ...options.settings },
    });
    const server = handle;
    return await work({
      url: (database) => server.url(database),
      createDatabase: async (name) => {
        await server.createDatabase(name);
        return server.url(name);
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanUp();
  }
}

/** Runs `work` with one connection to `url`, closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

