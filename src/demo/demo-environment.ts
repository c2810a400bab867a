// Where the demo keeps its databases: one embedded PostgreSQL (under --data-dir) holding both
// pipewarden's state (`pipewarden`) and the demo marketplace warehouse (`pipewarden_demo`).
// A second `pipewarden demo --break …` process shares the running demo's server.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../store/embedded-postgres.ts';

export const DEMO_CONFIG_PATH = fileURLToPath(new URL('../../examples/demo/pipewarden.yaml', import.meta.url));
/** The CLI, for runbooks that re-run a demo job (`pipewarden demo --load …`). */
export const PIPEWARDEN_BIN = fileURLToPath(new URL('../../bin/pipewarden.js', import.meta.url));
export const DEMO_WAREHOUSE_DATABASE = 'pipewarden_demo';
export const DEMO_STATE_DATABASE = 'pipewarden';

export interface DemoServerOptions {
  dataDir: string;
  port: number;
  logger: Logger;
}

export interface DemoDatabases {
  server: EmbeddedPostgresHandle;
  warehouseUrl: string;
  stateUrl: string;
}

export async function openDemoDatabases(options: DemoServerOptions): Promise<DemoDatabases> {
  const server = await startEmbeddedPostgres({ dir: path.resolve(options.dataDir), port: options.port, logger: options.logger });
  await server.createDatabase(DEMO_WAREHOUSE_DATABASE);
  await server.createDatabase(DEMO_STATE_DATABASE);
  return { server, warehouseUrl: server.url(DEMO_WAREHOUSE_DATABASE), stateUrl: server.url(DEMO_STATE_DATABASE) };
}

/** Runs `work` on one connection to the demo warehouse, closing it whatever happens. */
export async function withDemoWarehouse<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'pipewarden-demo' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The environment the demo config's `runbooks.vars` read: how a runbook step reaches this demo. */
export function demoRunbookVariables(dataDir: string, postgresPort: string): Record<string, string> {
  return { DEMO_NODE: process.execPath, DEMO_PIPEWARDEN: PIPEWARDEN_BIN, DEMO_DATA_DIR: path.resolve(dataDir), DEMO_POSTGRES_PORT: postgresPort };
}
