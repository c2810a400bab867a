// `pipewarden demo` end to end, as a person runs it: a real process starts its embedded PostgreSQL,
// seeds the marketplace, sweeps it and serves /metrics; a second process breaks the inventory feed
// through the running demo's server, and the demo's own notifications must show a freshness
// failure on the feed and a volume failure on top_items_not_carried within one sweep (plus the
// loader's tick that empties the derived table), and none on the healthy orders table. Then the
// rest of the incident lifecycle through other processes: `incidents` lists them, `incidents ack`
// acknowledges one, `--repair` resolves them; SIGTERM then stops the demo, its embedded
// PostgreSQL included.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, isPortFree, readPostmasterPid } from '../../src/store/leftover-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { promtoolCheckMetrics } from '../telemetry/promtool-check.ts';
import { runPipewarden, spawnDemo, waitForNotification, within, type DemoProcess } from '../helpers/demo-process.ts';

const INVENTORY = 'marketplace.raw.store_inventory';
const TOP_ITEMS = 'marketplace.analytics.top_items_not_carried';
const START_TIMEOUT_MS = 60_000;
const STOP_DEADLINE_MS = 20_000;
// examples/demo/pipewarden.yaml sweeps every 30 s; the demo loader rebuilds the derived table every 15 s.
const SWEEP_INTERVAL_MS = 30_000;
const LOADER_TICK_MS = 15_000;
// top_items_not_carried's size check (30 s buckets) judges once three complete buckets are behind it.
const LEARNING_MS = 4 * 30_000 + 5_000;

async function fetchMetrics(url: string, expected: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      last = await response.text();
      if (response.ok && last.includes(expected)) return last;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new Error(`/metrics did not show ${expected} within ${timeoutMs} ms; last answer:\n${last}`);
}

describe('pipewarden demo (real processes)', () => {
  let dir: string;
  let postgresPort: number;
  let httpPort: number;
  let demo: DemoProcess | undefined;
  let breaker: DemoProcess | undefined;
  let postmasterPid: number | undefined;

  beforeAll(async () => {
    // The embedded server runs as the `postgres` OS user when tests run as root; mkdtemp makes 0700.
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-demo-'));
    await chmod(dir, 0o755);
    postgresPort = await freePort();
    httpPort = await freePort();
  });

  afterAll(async () => {
    for (const child of [breaker?.child, demo?.child]) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all([breaker?.exited, demo?.exited]);
    // The demo was killed before it could stop its server: stop it, or it outlives the test run.
    if (postmasterPid !== undefined && isAlive(postmasterPid)) {
      process.kill(postmasterPid, 'SIGINT');
      for (let waited = 0; waited < 10_000 && isAlive(postmasterPid); waited += 100) await sleep(100);
    }
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('sweeps the seeded marketplace, serves metrics, plays an incident from --break to --repair through other processes, and stops on SIGTERM', async () => {
    demo = spawnDemo(['--data-dir', dir, '--postgres-port', String(postgresPort), '--http-port', String(httpPort)]);
    const swept = await demo.waitForMessage(/^swept \d+ tables in warehouse marketplace$/, START_TIMEOUT_MS);
    const firstSweepAt = Date.now();
    expect(Number(/^swept (\d+)/.exec(swept)?.[1])).toBeGreaterThanOrEqual(3);
    postmasterPid = (await readPostmasterPid(path.join(dir, 'pgdata')))?.pid;
    expect(postmasterPid).toBeGreaterThan(0);

    // tables_monitored is set mid-sweep, findings at its end: wait for the latter.
    const metrics = await fetchMetrics(`http://127.0.0.1:${httpPort}/metrics`, 'pipewarden_findings{kind="freshness"', 15_000);
    expect(metrics).toContain('pipewarden_tables_monitored{warehouse="marketplace"} 3');
    expect(metrics).toMatch(/^pipewarden_findings\{kind="freshness",status="\w+"\} \d+$/m);
    expect(metrics).toMatch(/^pipewarden_warehouse_up\{warehouse="marketplace"\} 1$/m);
    expect(metrics).toContain('pipewarden_build_info{');

    // Break only once the size check knows the derived table's normal size, as in a demo left
    // running: it judges after three complete 30-second buckets of the sweep's row estimates.
    await sleep(Math.max(0, firstSweepAt + LEARNING_MS - Date.now()));
    const brokenAt = Date.now();
    breaker = spawnDemo(['--break', 'inventory-feed', '--data-dir', dir, '--postgres-port', String(postgresPort)]);
    const broke = await within(breaker.exited, 30_000, 'demo --break');
    expect(broke.code, breaker.output()).toBe(0);
    expect(breaker.output()).toMatch(/inventory-feed is now broken \(since \S+\)/);
    // It used the running demo's server rather than starting (and stopping) one of its own.
    expect(breaker.output()).not.toContain('the demo is not running');
    expect(isAlive(postmasterPid as number)).toBe(true);

    // The failure began 10 minutes ago (--ago's default): the first sweep after the break sees
    // the stale feed, and the first sweep after the loader's next rebuild the empty derived table.
    const deadline = SWEEP_INTERVAL_MS + LOADER_TICK_MS + 10_000;
    const stale = await waitForNotification(demo, `freshness:${INVENTORY}`, 'opened', deadline);
    const collapsed = await waitForNotification(demo, `volume:${TOP_ITEMS}`, 'opened', deadline);
    expect(stale.status).toBe('fail');
    expect(stale.at - brokenAt).toBeLessThan(SWEEP_INTERVAL_MS + 5_000);
    const emptied = demo.loaderTicks.find((tick) => tick.at >= brokenAt && tick.topItemsNotCarried === 0);
    expect(emptied, 'a loader tick after the break rebuilt top_items_not_carried empty').toBeDefined();
    expect(collapsed.at - (emptied as { at: number }).at).toBeLessThan(SWEEP_INTERVAL_MS + 5_000);
    expect(collapsed.msg).toMatch(/0 rows in the table .* expected \d/);
    expect(demo.notifications.filter((notification) => notification.check.includes('shop.orders') && notification.status !== 'ok')).toEqual([]);

    // The running demo's own scrape, incidents, runbook runs and per-asset series in it, is clean for promtool.
    const scrape = await fetchMetrics(`http://127.0.0.1:${httpPort}/metrics`, 'pipewarden_check_status{asset="marketplace.analytics.top_items_not_carried"', 15_000);
    expect(scrape).toContain('pipewarden_incidents_opened_total{');
    expect(await promtoolCheckMetrics(scrape)).toEqual({ code: 0, output: '' });

    // The rest of the lifecycle, as the on-call person drives it: list, acknowledge, repair.
    const cliConfig = path.join(dir, 'pipewarden.yaml');
    const listed = await runPipewarden(['incidents', '--config', cliConfig, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const { incidents } = JSON.parse(listed.stdout) as { incidents: Array<{ id: string; check: string; status: string }> };
    const feedIncident = incidents.find((incident) => incident.check === `freshness:${INVENTORY}`);
    expect(feedIncident?.status).toBe('open');
    expect(incidents.some((incident) => incident.check === `volume:${TOP_ITEMS}`)).toBe(true);
    const acked = await runPipewarden(['incidents', 'ack', feedIncident?.id as string, '--by', 'on-call', '--config', cliConfig]);
    expect(acked.code, acked.stderr).toBe(0);
    expect((await waitForNotification(demo, `freshness:${INVENTORY}`, 'acknowledged', 10_000)).msg).toContain('by on-call (cli)');
    const repairer = spawnDemo(['--repair', 'inventory-feed', '--data-dir', dir, '--postgres-port', String(postgresPort)]);
    expect((await within(repairer.exited, 30_000, 'demo --repair')).code, repairer.output()).toBe(0);
    // Resolved after two passing sweeps (incidents.resolve_after), the first after the loader's next load.
    await waitForNotification(demo, `freshness:${INVENTORY}`, 'resolved', 2 * SWEEP_INTERVAL_MS + LOADER_TICK_MS + 10_000);
    await waitForNotification(demo, `volume:${TOP_ITEMS}`, 'resolved', 2 * SWEEP_INTERVAL_MS + 10_000);

    const signalledAt = Date.now();
    demo.child.kill('SIGTERM');
    const stopped = await within(demo.exited, STOP_DEADLINE_MS, 'demo shutdown after SIGTERM');
    expect(stopped, demo.output()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(STOP_DEADLINE_MS);
    expect(demo.messages).toContain('pipewarden stopped');

    // Its embedded PostgreSQL went with it: the postmaster is gone and the port is free again.
    for (let waited = 0; waited < 5_000 && isAlive(postmasterPid as number); waited += 100) await sleep(100);
    expect(isAlive(postmasterPid as number)).toBe(false);
    expect(await isPortFree('127.0.0.1', postgresPort)).toBe(true);
  }, 8 * 60_000);
});
