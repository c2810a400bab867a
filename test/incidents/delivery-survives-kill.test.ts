// A real `pipewarden start` process opens an incident and queues its PagerDuty trigger, but
// PagerDuty (a loopback HTTPS server) is failing; the process is killed with SIGKILL before the
// trigger got through. A new process, once PagerDuty is back, delivers it: exactly once.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { daemonConfigInput } from '../daemon/daemon-config.ts';
import { startPagerDutyTestServer, type PagerDutyTestServer } from '../helpers/pagerduty-server.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const BIN = path.join(import.meta.dirname, '../../bin/pipewarden.js');

let state: TestDatabase;
let warehouse: TestDatabase;
let pagerduty: PagerDutyTestServer;
let dir: string;
const children: ChildProcess[] = [];

function startDaemonProcess(): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'start', '--config', path.join(dir, 'pipewarden.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

beforeAll(async () => {
  [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
  await warehouse.pool().query("create schema raw; create table raw.inventory (id int, loaded_at timestamptz); insert into raw.inventory values (1, now() - interval '1 hour')");
  pagerduty = await startPagerDutyTestServer();
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-kill-'));
  await writeFile(path.join(dir, 'ca.pem'), pagerduty.certificate.cert);
  const config = daemonConfigInput(state.url, { shop: warehouse.url }, {
    schedule: { sweep: '* * * * * *', profile: '0 0 1 1 *' },
    monitors: [{ assets: 'shop.raw.inventory', owner: 'inventory', freshness: { column: 'loaded_at', error_after: '10m' } }],
    owners: { inventory: { pagerduty: 'routing-key-inventory' } },
    pagerduty: { events_host: pagerduty.host, ca_file: path.join(dir, 'ca.pem') },
    notifications: { console: false },
  });
  await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(config));
}, 30_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await pagerduty?.stop();
  await Promise.all([state?.drop(), warehouse?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the outbox across a SIGKILL', () => {
  it('delivers a trigger queued before the kill once the next process runs, and only once', async () => {
    pagerduty.respondWith([], { status: 503 });
    const first = startDaemonProcess();
    await pagerduty.waitForRequests(1, 30_000);
    first.kill('SIGKILL');
    await exited(first);
    const { rows: pending } = await state.pool().query<{ status: string }>("SELECT status FROM pipewarden.outbox WHERE channel = 'pagerduty'");
    expect(pending).toEqual([{ status: 'pending' }]);

    pagerduty.respondWith([]);
    const second = startDaemonProcess();
    const [delivered] = await pagerduty.waitForRequests(1, 90_000);
    expect(delivered?.body).toMatchObject({ event_action: 'trigger', routing_key: 'routing-key-inventory' });
    // Give a duplicate every chance to show up: several more sweeps and delivery passes.
    await sleep(3_000);
    expect(pagerduty.requests).toHaveLength(1);
    const { rows } = await state.pool().query<{ status: string }>("SELECT status FROM pipewarden.outbox WHERE channel = 'pagerduty'");
    expect(rows).toEqual([{ status: 'delivered' }]);
    const { rows: incidents } = await state.pool().query<{ n: number }>('SELECT count(*)::int AS n FROM pipewarden.incidents');
    expect(incidents[0]?.n).toBe(1);
    second.kill('SIGTERM');
    await exited(second);
  }, 150_000);
});
