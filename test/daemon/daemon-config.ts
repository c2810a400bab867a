// Configs for daemon tests: real state database, loopback HTTP on a free port, no surprise ticks.

import type { ConfigInput } from '../../src/config/schema.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { Config } from '../../src/config/schema.ts';

/** A cron that will not fire during a test run: the daemon's first sweep is the only one. */
export const NEVER = '0 0 1 1 *';

export function daemonConfigInput(stateUrl: string, warehouses: Record<string, string>, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    warehouses: Object.fromEntries(Object.entries(warehouses).map(([name, url]) => [name, { type: 'postgres', url, connect_timeout: '2s' }])),
    state: { url: stateUrl },
    schedule: { sweep: NEVER },
    server: { host: '127.0.0.1', port: 0 },
    shutdown_timeout: '10s',
    ...extra,
  };
}

export function daemonConfig(stateUrl: string, warehouses: Record<string, string>, extra: Partial<ConfigInput> = {}): Config {
  return configSchema.parse(daemonConfigInput(stateUrl, warehouses, extra));
}
