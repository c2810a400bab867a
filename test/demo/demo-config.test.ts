import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAppWanted } from '../../src/chat/slack-app.ts';
import { checkConfigFile } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';
import { seedDemoWarehouse } from '../../src/demo/seed-demo-warehouse.ts';
import { DEMO_CONFIG_PATH } from '../../src/demo/demo-environment.ts';
import { notificationChannels } from '../../src/notify/channels.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';

const CONFIG_PATH = fileURLToPath(new URL('../../examples/demo/pipewarden.yaml', import.meta.url));
const WAREHOUSE_URL = 'postgres://demo:secret@127.0.0.1:5432/demo';

let database: TestDatabase;

beforeAll(async () => {
  database = await createBlankDatabase();
  const client = await database.pool().connect();
  try {
    await seedDemoWarehouse(client, { now: new Date('2025-03-14T18:00:00Z'), days: 1 });
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await database?.drop();
});

/** The demo config as the loader reads it (`${VAR:-default}` filled in), with only DEMO_WAREHOUSE_URL set. */
async function demoConfig(): Promise<Config> {
  expect(await readFile(CONFIG_PATH, 'utf8')).toContain('${DEMO_WAREHOUSE_URL}');
  const check = await checkConfigFile(CONFIG_PATH, { DEMO_WAREHOUSE_URL: WAREHOUSE_URL });
  if (check.config === undefined) throw new Error(check.problems.map((problem) => problem.message).join('\n'));
  return check.config;
}

describe('examples/demo/pipewarden.yaml', () => {
  it('matches the config schema once DEMO_WAREHOUSE_URL is filled in', async () => {
    const config = await demoConfig();
    expect(config.warehouses.marketplace?.url).toBe(WAREHOUSE_URL);
    expect(config.server.port).toBe(9464);
    expect(Object.keys(config.owners).sort()).toEqual(['analytics', 'inventory-team']);
    const inventory = config.monitors.find((monitor) => monitor.assets.includes('marketplace.raw.store_inventory'));
    // Sized for demo time: a broken feed must show within minutes.
    expect(inventory?.owner).toBe('inventory-team');
    expect(inventory?.freshness).toMatchObject({ column: 'loaded_at', warn_after: 2 * 60_000, error_after: 5 * 60_000 });
  });

  it('passes the real config loader, with the warehouse URL from the environment it is given', async () => {
    const check = await checkConfigFile(CONFIG_PATH, { DEMO_WAREHOUSE_URL: WAREHOUSE_URL });
    expect(check.problems).toEqual([]);
    expect(check.config?.runbooks.folder).toBe(path.resolve(path.dirname(CONFIG_PATH), '../../runbooks'));
    // Slack stays off unless its tokens are in the environment, and then is on with them.
    expect(check.config?.slack).toMatchObject({ bot_token: '', app_token: '', default_role: 'responder' });
    expect(slackAppWanted(check.config?.slack)).toBe(false);
    expect(notificationChannels(check.config as Config)).toEqual({ console: true, slack: false });
    const withSlack = await checkConfigFile(CONFIG_PATH, { DEMO_WAREHOUSE_URL: WAREHOUSE_URL, SLACK_BOT_TOKEN: 'xoxb-demo', SLACK_APP_TOKEN: 'xapp-demo' });
    expect(withSlack.config?.slack).toMatchObject({ bot_token: 'xoxb-demo', app_token: 'xapp-demo' });
    const missing = await checkConfigFile(CONFIG_PATH, {});
    expect(missing.problems.map((problem) => problem.message).join('\n')).toContain('DEMO_WAREHOUSE_URL');
  });

  it('monitors tables and columns the seeded demo warehouse really has', async () => {
    const config = await demoConfig();
    const pool = database.pool();
    for (const monitor of config.monitors) {
      for (const asset of monitor.assets) {
        const [, schema, table] = asset.split('.');
        const freshness = monitor.freshness === true ? undefined : monitor.freshness?.column;
        const columns = [freshness, monitor.volume?.column, monitor.distribution?.column, ...(monitor.distribution?.columns ?? [])].filter(
          (column): column is string => column !== undefined,
        );
        expect(columns.length, asset).toBeGreaterThan(0);
        const result = await pool.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = ANY($3::text[])',
          [schema, table, columns],
        );
        expect(new Set(result.rows.map((row) => row.column_name)), asset).toEqual(new Set(columns));
      }
    }
  });
});

describe('DEMO_CONFIG_PATH', () => {
  it('is this file, found from the module whatever the working directory', () => {
    expect(DEMO_CONFIG_PATH).toBe(CONFIG_PATH);
  });
});
