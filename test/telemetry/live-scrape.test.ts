// The CI check the issue asks for: a running daemon's /metrics, scraped over HTTP after its first
// sweep and profile (per-asset series, a warehouse read failure and process metrics present), passes
// `promtool check metrics`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { promtoolCheckMetrics } from './promtool-check.ts';
import { scrapeAfterFirstJobs } from '../helpers/scrape-after-first-jobs.ts';

let state: TestDatabase;
let warehouse: TestDatabase;
let daemon: RunningDaemon | undefined;

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query(`create table public.orders (id int, loaded_at timestamptz); insert into public.orders values (1, now() - interval '2 hours')`);
});

afterAll(async () => {
  await daemon?.stop('test finished');
  await Promise.all([state?.drop(), warehouse?.drop()]);
});


describe('a live /metrics scrape', () => {
  it('passes promtool check metrics with the per-asset series present', async () => {
    const config = daemonConfig(state.url, { analytics: warehouse.url, broken: `postgres://reader@127.0.0.1:${await freePort()}/nowhere` }, {
      monitors: [{ assets: ['analytics.public.*', 'broken.public.*'], freshness: { column: 'loaded_at', warn_after: '30m', error_after: '1h' } }],
    });
    daemon = await startDaemon({ config, env: {}, logger: testLogger() });
    const scrape = await scrapeAfterFirstJobs(daemon.httpUrl);
    expect(scrape).toMatch(/^pipewarden_check_status\{asset="analytics\.public\.orders",kind="freshness"\} 2$/m);
    expect(scrape).toMatch(/^pipewarden_asset_freshness_lateness_seconds\{asset="analytics\.public\.orders"\} \d+/m);
    // The broken warehouse, once by the sweep and once by the profile job (both run at start).
    expect(scrape).toMatch(/^pipewarden_collection_errors_total\{source="warehouse"\} 2$/m);
    expect(scrape).toContain('pipewarden_process_cpu_seconds_total');
    expect(await promtoolCheckMetrics(scrape)).toEqual({ code: 0, output: '' });
  });
});
