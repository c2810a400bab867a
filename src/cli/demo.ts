// `pipewarden demo`: the marketplace story in one command. It starts an embedded PostgreSQL,
// seeds 30 days of history (once; later runs keep the data), keeps a loader adding rows, and
// runs the daemon on examples/demo/pipewarden.yaml. `--break NAME` / `--repair NAME`, run from a
// second terminal, switch a scripted failure on or off in the running demo.

import path from 'node:path';
import { Option } from 'commander';
import type { Logger } from 'pino';
import { parseDuration } from '../config/duration.ts';
import { loadConfig } from '../config/load-config.ts';
import { breakDemoFeed, DEMO_FAILURE_NAMES, DEMO_FAILURES, repairDemoFeed, type FeedChange } from '../demo/demo-feeds.ts';
import { DEMO_CONFIG_PATH, demoRunbookVariables, openDemoDatabases, withDemoWarehouse, type DemoDatabases } from '../demo/demo-environment.ts';
import { DEMO_JOBS, runInventoryJob } from '../demo/demo-jobs.ts';
import { writeDemoCliConfig } from '../demo/demo-cli-config.ts';
import { DemoLoader } from '../demo/demo-loader.ts';
import { seedDemoWarehouse } from '../demo/seed-demo-warehouse.ts';
import { exitCodeFor, installSignalHandlers, startDaemon } from '../main.ts';
import { createLogger, flushLogger } from '../telemetry/logger.ts';
import { type CliCommand, type CliIo, writeLine } from './cli-io.ts';

interface DemoOptions {
  break?: string;
  ago: string;
  repair?: string;
  load?: string;
  date?: string;
  dataDir: string;
  postgresPort: string;
  httpPort: string;
}

// Longer than raw.store_inventory's error_after (5m) and the derived table's 8-minute
// assortment window: the first sweep after the break sees the whole incident.
const DEFAULT_AGO = '10m';

const failureHelp = DEMO_FAILURE_NAMES.map((name) => `  ${name}: ${DEMO_FAILURES[name]}`).join('\n');

export const demoCommand: CliCommand = {
  register(program, io, finish) {
    program
      .command('demo')
      .description('Run the marketplace demo: embedded PostgreSQL, seeded warehouse, live loader and the daemon')
      .addOption(new Option('--break <failure>', 'break a feed of the running demo').choices(DEMO_FAILURE_NAMES))
      .option('--ago <duration>', `with --break: how long ago the failure began (${DEFAULT_AGO}: the incident is in full swing, as the person paged finds it; 0s: watch it unfold)`, DEFAULT_AGO)
      .addOption(new Option('--repair <failure>', 'repair a broken feed of the running demo').choices(DEMO_FAILURE_NAMES))
      .addOption(new Option('--load <job>', 're-run a pipeline job of the running demo once, as a runbook would').choices([...DEMO_JOBS]))
      .option('--date <day>', 'with --load: the day to load (YYYY-MM-DD); default today')
      .option('--data-dir <dir>', 'where the demo keeps its embedded PostgreSQL', './.pipewarden/demo')
      .option('--postgres-port <port>', 'port of the demo\'s embedded PostgreSQL (loopback)', '54329')
      .option('--http-port <port>', 'port of /healthz, /readyz and /metrics', '9464')
      .addHelpText('after', `\nFailures:\n${failureHelp}`)
      .action(async (options: DemoOptions) => {
        finish(await runDemo(options, io));
      });
  },
};

async function runDemo(options: DemoOptions, io: CliIo): Promise<number> {
  // A one-off change or job prints its result on stdout (a runbook step keeps it as output);
  // its logs go to stderr. The running demo logs to stdout like the daemon.
  const oneOff = options.load !== undefined || options.break !== undefined || options.repair !== undefined;
  const logger = createLogger({ level: 'info', destination: oneOff ? io.stderr : io.stdout });
  const databases = await openDemoDatabases({ dataDir: path.resolve(io.cwd, options.dataDir), port: Number(options.postgresPort), logger });
  try {
    if (options.load !== undefined) return await runJob(options, databases, io);
    if (options.break !== undefined || options.repair !== undefined) return await changeFeed(options, databases, io);
    return await runDemoDaemon(options, databases, io, logger);
  } finally {
    await databases.server.stop();
    await flushLogger(logger);
  }
}

async function changeFeed(options: DemoOptions, databases: DemoDatabases, io: CliIo): Promise<number> {
  const now = new Date();
  const agoMs = parseDuration(options.ago);
  if (agoMs === undefined) {
    writeLine(io.stderr, `error: --ago ${JSON.stringify(options.ago)} is not a duration; use e.g. 10m, 90s or 0s`);
    return 2;
  }
  const change = await withDemoWarehouse(databases.warehouseUrl, (client) =>
    options.break !== undefined ? breakDemoFeed(client, options.break, now, { agoMs }) : repairDemoFeed(client, options.repair as string, now),
  );
  writeLine(io.stdout, describeChange(change));
  if (!databases.server.owned) return 0;
  writeLine(io.stdout, 'note: the demo is not running; the change takes effect when `npm start` runs it again');
  return 0;
}

async function runJob(options: DemoOptions, databases: DemoDatabases, io: CliIo): Promise<number> {
  const result = await withDemoWarehouse(databases.warehouseUrl, (client) => runInventoryJob(client, new Date(), options.date));
  const note = result.table === 'raw.store_inventory' ? '' : ' (the feed writes to the migrated table while inventory-feed is broken)';
  writeLine(io.stdout, `inventory feed: loaded ${result.rows} rows, ${result.stores} stores' snapshot of ${result.date}, into ${result.table}${note}`);
  return 0;
}

function describeChange(change: FeedChange): string {
  if (change.previousState === change.state) return `${change.feed} was already ${change.state}; nothing changed`;
  const backfill = change.backfilledRows === undefined ? '' : ` (${change.backfilledRows} rows backfilled)`;
  return change.state === 'broken'
    ? `${change.feed} is now broken (since ${change.changedAt.toISOString()}): ${DEMO_FAILURES[change.feed]}`
    : `${change.feed} repaired${backfill}`;
}

async function runDemoDaemon(options: DemoOptions, databases: DemoDatabases, io: CliIo, logger: Logger): Promise<number> {
  const dataDir = path.resolve(io.cwd, options.dataDir);
  // What the demo's runbooks need to re-run a demo job: `${vars.…}` in examples/demo/pipewarden.yaml.
  const env = { ...io.env, DEMO_WAREHOUSE_URL: databases.warehouseUrl, ...demoRunbookVariables(dataDir, options.postgresPort) };
  const { config } = await loadConfig(DEMO_CONFIG_PATH, env);
  // The demo listens on loopback only and keeps its state beside its warehouse.
  const demoConfig = { ...config, state: { ...config.state, url: databases.stateUrl }, server: { host: '127.0.0.1', port: Number(options.httpPort) } };
  const summary = await withDemoWarehouse(databases.warehouseUrl, (client) => seedDemoWarehouse(client, { now: new Date() }));
  logger.info(summary, summary.seeded ? `seeded the demo warehouse: ${summary.days} days, ${summary.orders} orders` : 'demo warehouse already seeded; keeping its data');
  const cliConfig = await writeDemoCliConfig(dataDir, { warehouse: databases.warehouseUrl, state: databases.stateUrl }, env);
  const loader = await startLoader(databases.warehouseUrl, logger);
  try {
    const daemon = await startDaemon({ config: demoConfig, env, logger });
    const removeHandlers = installSignalHandlers(daemon, logger);
    printWelcome(io, daemon.httpUrl, path.relative(io.cwd, cliConfig));
    const outcome = await daemon.stopped;
    removeHandlers();
    return exitCodeFor(outcome);
  } finally {
    await loader.stop();
  }
}

async function startLoader(warehouseUrl: string, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: warehouseUrl, max: 2, application_name: 'pipewarden-demo-loader' });
  // Without a listener, an idle connection the server drops (as its shutdown races pool.end()
  // closing the last connections) would be an uncaught 'error' event and crash the demo's exit.
  pool.on('error', (error) => logger.debug({ err: error }, 'demo loader connection closed by the server'));
  const loader = new DemoLoader({ pool, logger, now: () => new Date() });
  loader.start();
  return {
    async stop() {
      await loader.stop();
      await pool.end();
    },
  };
}

function printWelcome(io: CliIo, httpUrl: string, cliConfig: string): void {
  const lines = [
    '',
    `pipewarden demo is running. Metrics: ${httpUrl}/metrics · health: ${httpUrl}/readyz`,
    'In another terminal, break the inventory feed and watch the incidents open:',
    '  npx pipewarden demo --break inventory-feed      (and later: --repair inventory-feed)',
    `  npx pipewarden incidents --config ${cliConfig}   (then: incidents ack ID --config …)`,
    'Stop with Ctrl-C.',
    '',
  ];
  for (const line of lines) writeLine(io.stderr, line);
}
