// `pipewarden check` through the real CLI entry point (runCli), against a real warehouse and state
// database: the `check --json` contract from docs/architecture.md, exit codes, --select, the human
// output, and an invalid config. Freshness uses the real clock here (check reads it), so the rows
// are placed relative to the database's now() with wide margins.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../src/cli/index.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { fixturePath } from '../collect/dbt/dbt-fixtures.ts';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

const FINDING_FIELDS = ['check', 'kind', 'asset', 'column', 'status', 'observed', 'expected', 'score', 'bucket', 'message'];
const REQUIRED_FINDING_FIELDS = ['check', 'kind', 'asset', 'status', 'observed', 'message'];

let state: TestDatabase;
let warehouse: TestDatabase;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query(`
    create table public.orders (id int, loaded_at timestamptz not null);
    insert into public.orders values (1, now() - interval '10 minutes');
    create table public.events (id int, loaded_at timestamptz not null);
    insert into public.events values (1, now() - interval '1 minute');
  `);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-check-'));
  env = { WAREHOUSE_URL: warehouse.url, DATABASE_URL: state.url };
});

afterAll(async () => {
  await Promise.all([state?.drop(), warehouse?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

/** A config file in the temp folder; URLs come in through ${ENV} like a real deployment's. */
async function writeConfig(name: string, monitors: ConfigInput['monitors']): Promise<string> {
  const config = {
    warehouses: { analytics: { type: 'postgres', url: '${WAREHOUSE_URL}', connect_timeout: '2s' } },
    state: { url: '${DATABASE_URL}' },
    monitors,
  };
  await writeFile(path.join(dir, name), stringify(config));
  return name;
}

async function cli(...args: string[]): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (chunk: Buffer) => (chunks.stdout += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (chunks.stderr += chunk.toString()));
  const code = await runCli(['node', 'pipewarden', ...args], { stdout, stderr, env, cwd: dir });
  return { code, ...chunks };
}

const fresh = { column: 'loaded_at', warn_after: '1h', error_after: '2h' };
const strict = { column: 'loaded_at', warn_after: '3m', error_after: '5m' };

interface CheckJson {
  findings: Record<string, unknown>[];
  summary: Record<string, number>;
}

function parseJson(outcome: Outcome): CheckJson {
  try {
    return JSON.parse(outcome.stdout) as CheckJson;
  } catch {
    throw new Error(`stdout is not one JSON document: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
  }
}

describe('pipewarden check', () => {
  it('--json prints exactly the contract fields and exits 0 when every finding is ok', async () => {
    const config = await writeConfig('all-ok.yaml', [{ assets: 'analytics.public.*', freshness: fresh }]);
    const outcome = await cli('check', '--json', '--config', config);
    expect(outcome.code, outcome.stderr).toBe(0);
    const output = parseJson(outcome);
    expect(Object.keys(output).sort()).toEqual(['findings', 'summary']);
    expect(Object.keys(output.summary).sort()).toEqual(['error', 'fail', 'ok', 'warn']);
    expect(output.summary).toEqual({ ok: 2, warn: 0, fail: 0, error: 0 });
    for (const finding of output.findings) {
      expect(REQUIRED_FINDING_FIELDS.filter((field) => !(field in finding))).toEqual([]);
      expect(Object.keys(finding).filter((field) => !FINDING_FIELDS.includes(field))).toEqual([]);
    }
    const orders = output.findings.find((finding) => finding.asset === 'analytics.public.orders');
    expect(Object.keys(orders ?? {}).sort()).toEqual(['asset', 'check', 'column', 'expected', 'kind', 'message', 'observed', 'status']);
    expect(orders).toMatchObject({ check: 'freshness:analytics.public.orders', kind: 'freshness', column: 'loaded_at', status: 'ok', expected: { low: 0, high: 3600 } });
    expect(orders?.observed).toBeGreaterThanOrEqual(600);
    expect(orders?.observed).toBeLessThan(3600);
    expect(typeof orders?.message).toBe('string');
  });

  it('exits 1 when one finding fails, and counts it in the summary', async () => {
    const config = await writeConfig('one-fails.yaml', [
      { assets: 'analytics.public.orders', freshness: strict },
      { assets: 'analytics.public.events', freshness: strict },
    ]);
    const outcome = await cli('check', '--json', '--config', config);
    expect(outcome.code, outcome.stderr).toBe(1);
    const output = parseJson(outcome);
    expect(output.summary).toEqual({ ok: 1, warn: 0, fail: 1, error: 0 });
    expect(output.findings.find((finding) => finding.status === 'fail')?.asset).toBe('analytics.public.orders');
  });

  it('exits 1 when a finding could not be measured', async () => {
    const config = await writeConfig('one-error.yaml', [{ assets: 'analytics.public.events', freshness: { column: 'no_such_column' } }]);
    const outcome = await cli('check', '--json', '--config', config);
    expect(outcome.code).toBe(1);
    expect(parseJson(outcome).summary).toEqual({ ok: 0, warn: 0, fail: 0, error: 1 });
  });

  it('--select narrows the sweep to matching assets', async () => {
    const config = await writeConfig('select.yaml', [{ assets: 'analytics.public.*', freshness: strict }]);
    const outcome = await cli('check', '--json', '--select', 'analytics.public.events', '--config', config);
    expect(outcome.code, outcome.stderr).toBe(0);
    const output = parseJson(outcome);
    expect(output.findings.map((finding) => finding.asset)).toEqual(['analytics.public.events']);
    expect(output.summary).toEqual({ ok: 1, warn: 0, fail: 0, error: 0 });
  });

  it('prints FAIL lines first for people, then a summary line', async () => {
    const config = await writeConfig('human.yaml', [{ assets: 'analytics.public.*', freshness: strict }]);
    const outcome = await cli('check', '--config', config);
    expect(outcome.code).toBe(1);
    const lines = outcome.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^FAIL +freshness +analytics\.public\.orders: newest loaded_at is 10m( \d+s)? old \(warn after 3m, fail after 5m\)$/);
    expect(lines[1]).toMatch(/^ok +freshness +analytics\.public\.events: /);
    expect(lines[2]).toBe('2 tables swept · 1 ok · 0 warn · 1 fail · 0 error');
    expect(() => JSON.parse(outcome.stdout)).toThrow();
  });

  it('exits 2 with file:line when the config is invalid, before connecting to anything', async () => {
    await writeFile(path.join(dir, 'invalid.yaml'), ['warehouses:', '  analytics: { type: postgres, url: "${WAREHOUSE_URL}" }', 'monitors:', '  - assets: analytics.public.*', '    freshnes: true', ''].join('\n'));
    const outcome = await cli('check', '--json', '--config', 'invalid.yaml');
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toContain(`${path.join(dir, 'invalid.yaml')}:5:`);
    expect(outcome.stderr).toContain('freshnes');
  });
});

describe('pipewarden validate through runCli', () => {
  it('accepts a valid config and exits 0', async () => {
    const config = await writeConfig('valid.yaml', [{ assets: 'analytics.public.*', freshness: fresh }]);
    const outcome = await cli('validate', '--config', config);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toBe('valid.yaml: valid (1 warehouse, 1 monitor, 0 runbooks)\n');
  });
  it('also judges a configured dbt target: a failed model fails the check, in the contract\'s fields', async () => {
    const target = path.join(dir, 'dbt-target');
    await mkdir(target);
    await copyFile(fixturePath('hand__manifest__v7__jaffle_shop-classic.json'), path.join(target, 'manifest.json'));
    await copyFile(fixturePath('hand__run_results__v4__jaffle_shop__fail-warn-skip.json'), path.join(target, 'run_results.json'));
    const config = {
      warehouses: { analytics: { type: 'postgres', url: '${WAREHOUSE_URL}', connect_timeout: '2s' } },
      state: { url: '${DATABASE_URL}' },
      monitors: [{ assets: 'analytics.public.*', freshness: fresh }],
      dbt: [{ target: './dbt-target', warehouse: 'analytics' }],
    };
    await writeFile(path.join(dir, 'with-dbt.yaml'), stringify(config));
    const outcome = await cli('check', '--json', '--config', 'with-dbt.yaml');
    expect(outcome.code, outcome.stderr).toBe(1);
    const { findings } = parseJson(outcome);
    expect(findings.find((finding) => finding.check === 'run:analytics.dbt_jaffle.stg_payments')).toMatchObject({ kind: 'run', status: 'fail' });
    for (const finding of findings) expect(FINDING_FIELDS).toEqual(expect.arrayContaining(Object.keys(finding)));
    const selected = parseJson(await cli('check', '--json', '--select', 'analytics.dbt_jaffle.orders', '--config', 'with-dbt.yaml'));
    expect(selected.findings.map((finding) => finding.asset)).toEqual(['analytics.dbt_jaffle.orders']);
  });
});
