// Slack acknowledgement latency: a real daemon (embedded PostgreSQL state, loopback HTTP) takes
// signed `/pipewarden` slash commands at a steady rate, and every request is timed from send to
// Slack's 200 — the acknowledgement Slack needs within 3 s. Target: p99 ≤ 300 ms at 20 requests
// a second for 30 s. The baseline, measured in the same run at the same rate, is GET /healthz on
// the same server: the ratio says what signature checking, Bolt and the command's acknowledgement
// add to the server's own floor on this machine, whatever its speed.
//
// The commands' answers go to `response_url`, a loopback server here; they are counted, not timed.
//
// Usage: node bench/slack-ack-latency.ts [--rate 20] [--seconds 30] [--command incidents]

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { configSchema } from '../src/config/schema.ts';
import { signSlackRequest } from '../src/chat/slack-signature.ts';
import { SLACK_COMMANDS_PATH } from '../src/chat/slack-receiver.ts';
import { startDaemon } from '../src/main.ts';
import { parseFlags, positiveInteger } from './lib/bench-args.ts';
import { benchLogger, withBenchPostgres } from './lib/bench-postgres.ts';
import { printTable } from './lib/print-table.ts';

const TARGET_P99_MS = 300;
const SECRET = 'bench-signing-secret';
const NEVER = '0 0 1 1 *';

const flags = parseFlags('slack-ack-latency', {
  rate: { default: 20, description: 'requests per second' },
  seconds: { default: 30, description: 'how long each series runs' },
  command: { default: 'incidents', description: 'the /pipewarden subcommand sent (incidents reads the state database; help does not)' },
});
const RATE = positiveInteger('rate', flags.rate);
const SECONDS = positiveInteger('seconds', flags.seconds);

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? NaN;
}

/** Sends `request()` RATE times a second for SECONDS, open-loop (a slow answer does not delay the next send). */
async function steadyLoad(request: () => Promise<Response>): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const total = RATE * SECONDS;
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + (index * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now();
    sent.push(
      request().then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) latencies.push(performance.now() - sentAt);
          else failures += 1;
        },
        () => {
          failures += 1;
        },
      ),
    );
  }
  await Promise.all(sent);
  return { latencies, failures };
}

async function startResponseSink(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let answers = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      answers += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/respond`, count: () => answers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

await withBenchPostgres(async (postgres) => {
  const state = await postgres.createDatabase('bench_state');
  const warehouse = await postgres.createDatabase('bench_warehouse');
  const sink = await startResponseSink();
  const config = configSchema.parse({
    warehouses: { wh: { type: 'postgres', url: warehouse } },
    state: { url: state },
    schedule: { sweep: NEVER, profile: NEVER },
    server: { host: '127.0.0.1', port: 0 },
    slack: { signing_secret: SECRET, bot_token: 'xoxb-bench', api_url: `${sink.url}/api/`, roles: { U0BENCH: 'responder' } },
    runbooks: { folder: '/nonexistent-bench-runbooks' },
  });
  const daemon = await startDaemon({ config, env: {}, logger: benchLogger() });
  try {
    const command = () => {
      const body = new URLSearchParams({ command: '/pipewarden', text: flags.command, user_id: 'U0BENCH', user_name: 'bench', team_id: 'T0BENCH', channel_id: 'C0BENCH', response_url: sink.url, trigger_id: 'bench' }).toString();
      const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)) };
      return fetch(`${daemon.httpUrl}${SLACK_COMMANDS_PATH}`, { method: 'POST', headers, body });
    };
    const health = () => fetch(`${daemon.httpUrl}/healthz`);
    // Warm up both paths (JIT, pools) before anything is measured.
    for (let index = 0; index < 20; index += 1) await Promise.all([command().then((r) => r.arrayBuffer()), health().then((r) => r.arrayBuffer())]);
    const baseline = await steadyLoad(health);
    const slack = await steadyLoad(command);
    const rows = [
      ['GET /healthz (baseline)', baseline.latencies.length, baseline.failures, percentile(baseline.latencies, 0.5).toFixed(1), percentile(baseline.latencies, 0.99).toFixed(1), '1.00'],
      [
        `/pipewarden ${flags.command}`,
        slack.latencies.length,
        slack.failures,
        percentile(slack.latencies, 0.5).toFixed(1),
        percentile(slack.latencies, 0.99).toFixed(1),
        (percentile(slack.latencies, 0.99) / percentile(baseline.latencies, 0.99)).toFixed(2),
      ],
    ];
    printTable(`Slack acknowledgement latency, ${RATE} req/s for ${SECONDS} s each`, ['series', 'acked', 'failed', 'p50 ms', 'p99 ms', 'p99 ratio'], rows);
    const p99 = percentile(slack.latencies, 0.99);
    console.log(`target p99 ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS && slack.failures === 0 ? 'met' : 'NOT met'} (p99 ${p99.toFixed(1)} ms, ${slack.failures} failed; ${sink.count()} answers reached response_url)`);
  } finally {
    await daemon.stop('benchmark finished');
    await sink.close();
  }
});
