// `pipewarden check` covers volume and distribution: it profiles right after the sweep, so the
// `check --json` contract carries their findings and a volume drop exits 1. The real clock is
// used (check reads it), so rows are placed relative to the database's day boundaries.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../src/cli/index.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

let state: TestDatabase;
let warehouse: TestDatabase;
let dir: string;

// 21 complete UTC days of 400 rows; `dropped` lost 90 % of yesterday's.
const SEED = `
  CREATE TABLE public.steady (id serial, created_at timestamptz NOT NULL, status text);
  INSERT INTO public.steady (created_at, status)
  SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - d * interval '1 day' + i * interval '3 minutes',
    CASE WHEN i % 4 = 0 THEN 'refunded' ELSE 'paid' END
  FROM generate_series(1, 21) d CROSS JOIN generate_series(0, 399) i;
  CREATE TABLE public.dropped AS SELECT * FROM public.steady;
  DELETE FROM public.dropped WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 day' AND id % 10 <> 0;`;

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query(SEED);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-check-profile-'));
  const config = {
    warehouses: { analytics: { type: 'postgres', url: warehouse.url, connect_timeout: '2s' } },
    state: { url: state.url },
    monitors: [
      {
        assets: ['analytics.public.steady', 'analytics.public.dropped'],
        volume: { column: 'created_at', bucket: '1d' },
        distribution: { column: 'created_at', bucket: '1d', columns: ['status'] },
      },
    ],
  };
  await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(config));
});

afterAll(async () => {
  await Promise.all([state?.drop(), warehouse?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

async function checkJson(): Promise<{ code: number; findings: Array<Record<string, unknown>>; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(['node', 'pipewarden', 'check', '--json'], { stdout, stderr, env: {}, cwd: dir });
  return { code, findings: (JSON.parse(out) as { findings: Array<Record<string, unknown>> }).findings, stderr: err };
}

describe('pipewarden check with profiles', () => {
  it('prints volume and distribution findings and exits 1 on a volume drop', async () => {
    const { code, findings, stderr } = await checkJson();
    expect(code, stderr).toBe(1);
    const byCheck = new Map(findings.map((finding) => [finding.check, finding]));
    const yesterday = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString();
    expect(byCheck.get('volume:analytics.public.dropped')).toMatchObject({ kind: 'volume', status: 'fail', observed: 40, bucket: yesterday });
    expect(byCheck.get('volume:analytics.public.steady')).toMatchObject({ status: 'ok', observed: 400, bucket: yesterday });
    expect(byCheck.get('distribution:analytics.public.steady:status')).toMatchObject({ kind: 'distribution', column: 'status', status: 'ok' });
    expect(findings.filter((finding) => finding.check === 'volume:analytics.public.dropped')).toHaveLength(1);
  });
});
