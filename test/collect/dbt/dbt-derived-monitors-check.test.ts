// `pipewarden check` sees the monitors dbt derives: through the real CLI entry point, with a config
// that names only a dbt target (no monitors), a stale source table fails the check.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../../src/cli/index.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts';
import { fixturePath } from './dbt-fixtures.ts';

let state: TestDatabase;
let warehouse: TestDatabase;
let dir: string;

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  // dbt says: warn after 2 hours, error after 6; the newest row is 7 hours old.
  await warehouse.pool().query(`
    create schema raw;
    create table raw.inventory_feed (id int, loaded_at timestamptz not null);
    insert into raw.inventory_feed values (1, now() - interval '7 hours');
  `);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-dbt-check-'));
  await mkdir(path.join(dir, 'target'));
  await copyFile(fixturePath('hand__manifest__v12__derived-monitors.json'), path.join(dir, 'target', 'manifest.json'));
  const config = {
    warehouses: { analytics: { type: 'postgres', url: '${WAREHOUSE_URL}', connect_timeout: '2s' } },
    state: { url: '${DATABASE_URL}' },
    dbt: [{ target: './target', warehouse: 'analytics' }],
  };
  await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(config));
}, 30_000);

afterAll(async () => {
  await Promise.all([state?.drop(), warehouse?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

describe('pipewarden check with a dbt target', () => {
  it('fails on a source dbt configures freshness for, with no monitor in the config', async () => {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await runCli(['node', 'pipewarden', 'check', '--json'], { stdout, stderr: new PassThrough(), env: { WAREHOUSE_URL: warehouse.url, DATABASE_URL: state.url }, cwd: dir });
    const findings = (JSON.parse(out) as { findings: Array<{ check: string; status: string }> }).findings;
    expect(findings.find((finding) => finding.check === 'freshness:analytics.raw.inventory_feed')?.status).toBe('fail');
    expect(code).toBe(1);
  });
});
