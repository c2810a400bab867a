// `pipewarden silences` through the real CLI on a real state database: add, list, cancel, and a
// silence added here keeping an incident quiet in applyFindings.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { applyFindings } from '../../src/incidents/apply-findings.ts';
import { createBlankDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const T0 = new Date('2025-06-02T08:00:00Z');

let database: TestDatabase;
let dir: string;
let clock = T0;

const cli = (...args: string[]) => runCliCaptured(args, { env: { DATABASE_URL: database.url }, cwd: dir, now: () => clock });

beforeAll(async () => {
  database = await createBlankDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-cli-silences-'));
  const config = ['warehouses:', '  shop: { type: postgres, url: "postgres://127.0.0.1:1/warehouse" }', 'state:', '  url: ${DATABASE_URL}', ''];
  await writeFile(path.join(dir, 'pipewarden.yaml'), config.join('\n'));
});

afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('pipewarden silences', () => {
  it('adds a silence that keeps matching incidents quiet, lists it, and cancels it', async () => {
    const added = await cli('silences', 'add', '--asset', 'shop.raw.*', '--check', 'freshness:*', '--for', '2h', '--reason', 'backfill in progress', '--by', 'ana', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { silence } = JSON.parse(added.stdout) as { silence: { id: string; endsAt: string } };
    expect(silence).toMatchObject({ assets: ['shop.raw.*'], checks: ['freshness:*'], endsAt: '2025-06-02T10:00:00.000Z', createdBy: 'ana', reason: 'backfill in progress' });

    const { config } = await loadConfig(path.join(dir, 'pipewarden.yaml'), { DATABASE_URL: database.url });
    const finding = { check: 'freshness:shop.raw.inventory', kind: 'freshness' as const, asset: 'shop.raw.inventory', status: 'fail' as const, observed: 1, message: 'stale' };
    expect(await applyFindings(database.pool(), config, [finding], new Date(T0.getTime() + 60_000))).toMatchObject({ opened: 1, queued: 0 });
    const other = { ...finding, check: 'volume:shop.raw.inventory', kind: 'volume' as const };
    expect(await applyFindings(database.pool(), config, [other], new Date(T0.getTime() + 60_000))).toMatchObject({ opened: 1, queued: 1 });

    expect((await cli('silences')).stdout.trim()).toBe(`#${silence.id} asset shop.raw.*, check freshness:* until 2025-06-02T10:00:00.000Z by ana: backfill in progress`);
    expect((await cli('silences', 'cancel', silence.id)).stdout.trim()).toBe(`silence #${silence.id} cancelled`);
    expect((await cli('silences')).stdout.trim()).toBe('no silences');
    expect((await cli('silences', 'list', '--all', '--json')).stdout).toContain(`"id": "${silence.id}"`);
    const again = await cli('silences', 'cancel', silence.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error [silence_not_found]');
  });

  it('lists a silence until it expires', async () => {
    const added = await cli('silences', 'add', '--check', 'schema:*', '--for', '30m', '--reason', 'migration', '--json');
    const { silence } = JSON.parse(added.stdout) as { silence: { id: string } };
    clock = new Date(T0.getTime() + 29 * 60_000);
    expect((await cli('silences')).stdout).toContain(`#${silence.id} check schema:*`);
    clock = new Date(T0.getTime() + 31 * 60_000);
    expect((await cli('silences')).stdout.trim()).toBe('no silences');
    clock = T0;
  });

  it.each([
    [['--asset', 'x.*', '--for', 'soon', '--reason', 'r'], '--for "soon" is not a duration'],
    [['--for', '1h', '--reason', 'r'], 'at least one --asset or --check'],
    [['--asset', 'x.*', '--for', '1h', '--reason', '  '], '--reason must say why'],
  ])('refuses %j with a clear message and exit 2', async (args, message) => {
    const outcome = await cli('silences', 'add', ...args);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(message);
  });
});
