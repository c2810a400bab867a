// The compose stack (deploy/) holds together: no Docker engine runs here, so instead of starting
// it these tests check that its files agree with each other and with pipewarden: the ports, the
// paths compose mounts and the services read, the names services reach each other by, the
// healthchecks against pipewarden's real routes, Prometheus's config through promtool, the config
// through pipewarden's own check, and the seeded warehouse through a real `pipewarden check`.

import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkConfigFile } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';
import { mountHealthRoutes } from '../../src/http/health-routes.ts';
import type { ReadinessReport } from '../../src/http/readiness.ts';
import { HttpServer } from '../../src/http/server.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { testLogger } from '../helpers/logger.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';
import { createBlankDatabase, createTestDatabase, embeddedServerUrl, type TestDatabase } from '../helpers/postgres.ts';
import {
  commandText,
  containerPorts,
  DEPLOY_DIR,
  dependsOn,
  hostPathFor,
  httpUrlsIn,
  readCompose,
  readDockerfileFacts,
  readYamlFile,
  REPO_DIR,
  runProgram,
  serviceEnvironment,
  serviceMounts,
} from './stack-files.ts';
import type { ComposeFile, ComposeService } from './stack-files.ts';

const REQUIRED_SERVICES = ['postgres', 'pipewarden', 'prometheus', 'grafana'];
const PROMETHEUS_DEFAULT_PORT = 9090;

interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs?: { job_name: string; honor_labels?: boolean; scrape_interval?: string; static_configs?: { targets: string[] }[] }[];
}

let compose: ComposeFile;

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`deploy/compose.yaml has no service "${name}"`);
  return found;
}

/** The container path given to a `--flag=value` of a service's command. */
function commandFlag(value: ComposeService, flag: string): string | undefined {
  const match = commandText(value.command).match(new RegExp(`${flag}=(\\S+)`));
  return match?.[1];
}

async function prometheusConfig(): Promise<{ file: string; config: PrometheusConfig }> {
  const containerPath = commandFlag(service('prometheus'), '--config.file') ?? '/etc/prometheus/prometheus.yml';
  const file = hostPathFor(service('prometheus'), containerPath);
  if (file === undefined) throw new Error(`compose mounts nothing at ${containerPath} for prometheus`);
  return { file, config: (await readYamlFile(file)) as PrometheusConfig };
}

function pipewardenJob(config: PrometheusConfig): NonNullable<PrometheusConfig['scrape_configs']>[number] {
  const job = config.scrape_configs?.find((candidate) => candidate.job_name === 'pipewarden');
  if (!job) throw new Error('deploy/prometheus.yml has no scrape job named pipewarden (alerts/pipewarden.rules.yml reads job="pipewarden")');
  return job;
}

function prometheusPort(): number {
  const listen = commandFlag(service('prometheus'), '--web.listen-address');
  return listen === undefined ? PROMETHEUS_DEFAULT_PORT : Number(listen.split(':').at(-1));
}

/** Where the image reads its config: the Dockerfile's CMD `--config PATH`. */
async function imageConfigPath(): Promise<string> {
  const { cmd } = readDockerfileFacts(await readFile(path.join(REPO_DIR, 'Dockerfile'), 'utf8'));
  const index = cmd.indexOf('--config');
  return index >= 0 ? (cmd[index + 1] as string) : '';
}

async function pipewardenConfig(env: Record<string, string>): Promise<Config> {
  const file = hostPathFor(service('pipewarden'), await imageConfigPath());
  if (file === undefined) throw new Error(`compose mounts no config at ${await imageConfigPath()} for pipewarden`);
  const { config, problems } = await checkConfigFile(file, env);
  if (!config) throw new Error(`${path.relative(REPO_DIR, file)} is invalid:\n${problems.map((problem) => `${problem.location.line}:${problem.location.column} ${problem.path}: ${problem.message}`).join('\n')}`);
  return config;
}

beforeAll(async () => {
  compose = await readCompose();
});

describe('deploy/compose.yaml', () => {
  it('parses, has the four services, pins every image and restarts them', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
    const problems: string[] = [];
    for (const [name, value] of Object.entries(compose.services)) {
      if (value.build === undefined) {
        const tag = value.image?.split('/').at(-1)?.split(':')[1];
        if (tag === undefined || tag === 'latest') problems.push(`services.${name}.image: pin a version tag (got "${value.image ?? ''}")`);
      }
      if (value.restart === undefined) problems.push(`services.${name}.restart: set a restart policy`);
    }
    expect(problems).toEqual([]);
  });

  it('builds pipewarden from a Dockerfile that exists', () => {
    const builds = Object.entries(compose.services).filter(([, value]) => value.build !== undefined);
    expect(builds.map(([name]) => name)).toContain('pipewarden');
    for (const [name, value] of builds) {
      const build = typeof value.build === 'string' ? { context: value.build } : (value.build ?? {});
      const dockerfile = path.resolve(DEPLOY_DIR, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      expect(existsSync(dockerfile), `services.${name}.build: ${dockerfile} does not exist`).toBe(true);
    }
  });

  it('mounts only host paths that exist and named volumes it declares', () => {
    const problems: string[] = [];
    for (const [name, value] of Object.entries(compose.services)) {
      for (const mount of serviceMounts(value)) {
        if (mount.hostPath !== undefined && !existsSync(mount.hostPath)) problems.push(`services.${name}.volumes: ${path.relative(REPO_DIR, mount.hostPath)} does not exist`);
        if (mount.volumeName !== undefined && !(mount.volumeName in (compose.volumes ?? {}))) problems.push(`services.${name}.volumes: named volume ${mount.volumeName} is not declared under volumes`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names only services that exist, in depends_on and in the URLs it passes', () => {
    const names = Object.keys(compose.services);
    const problems: string[] = [];
    for (const [name, value] of Object.entries(compose.services)) {
      for (const dependency of dependsOn(value)) if (!names.includes(dependency)) problems.push(`services.${name}.depends_on: no service "${dependency}"`);
    }
    const env = serviceEnvironment(service('pipewarden'));
    for (const key of ['DATABASE_URL', 'WAREHOUSE_URL']) {
      const host = new URL(env[key] ?? 'postgres://missing/').hostname;
      if (!names.includes(host)) problems.push(`services.pipewarden.environment.${key}: host "${host}" is no service`);
    }
    expect(problems).toEqual([]);
    expect(dependsOn(service('pipewarden'))).toContain('postgres');
    expect(dependsOn(service('grafana'))).toContain('prometheus');
  });

  it('lets pipewarden start only once postgres is healthy, checked with pg_isready', () => {
    expect(service('pipewarden').depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(commandText(service('postgres').healthcheck?.test)).toContain('pg_isready');
  });

  it('creates the databases pipewarden connects to, and the read-only role it connects as', async () => {
    const env = serviceEnvironment(service('pipewarden'));
    const state = new URL(env.DATABASE_URL ?? '');
    const warehouse = new URL(env.WAREHOUSE_URL ?? '');
    const initdb = hostPathFor(service('postgres'), '/docker-entrypoint-initdb.d');
    expect(initdb, 'postgres mounts deploy/initdb at /docker-entrypoint-initdb.d').toBeDefined();
    const scripts = await Promise.all((await readdir(initdb as string)).sort().map((name) => readFile(path.join(initdb as string, name), 'utf8')));
    const all = scripts.join('\n');
    expect(all).toMatch(new RegExp(`CREATE DATABASE ${state.pathname.slice(1)};`));
    // The warehouse is the image's POSTGRES_DB, which the init scripts run in.
    expect(serviceEnvironment(service('postgres')).POSTGRES_DB).toBe(warehouse.pathname.slice(1));
    expect(all).toContain(`CREATE ROLE ${warehouse.username} LOGIN PASSWORD :'password'`);
    expect(serviceEnvironment(service('postgres')).WAREHOUSE_READER_PASSWORD).toBe(decodeURIComponent(warehouse.password));
    expect(serviceEnvironment(service('postgres')).POSTGRES_PASSWORD).toBe(decodeURIComponent(state.password));
  });
});

describe('ports and paths agree', () => {
  it('pipewarden listens on all interfaces at the port Prometheus scrapes, compose publishes and the healthchecks ask', async () => {
    const config = await pipewardenConfig(serviceEnvironment(service('pipewarden')));
    const port = config.server.port;
    expect(config.server.host).toBe('0.0.0.0');
    const { config: prometheus } = await prometheusConfig();
    const targets = pipewardenJob(prometheus).static_configs?.flatMap((group) => group.targets) ?? [];
    expect(targets).toEqual([`pipewarden:${port}`]);
    expect(containerPorts(service('pipewarden'))).toEqual([port]);
    const composeProbe = httpUrlsIn(commandText(service('pipewarden').healthcheck?.test));
    expect(composeProbe.map((url) => `${url.port}${url.pathname}`)).toEqual([`${port}/readyz`]);
    const image = readDockerfileFacts(await readFile(path.join(REPO_DIR, 'Dockerfile'), 'utf8'));
    expect(image.exposed).toEqual([port]);
    expect(httpUrlsIn(image.healthcheck.join(' ')).map((url) => `${url.port}${url.pathname}`)).toEqual([`${port}/healthz`]);
  });

  it('the image reads its config where compose mounts deploy/pipewarden.yaml', async () => {
    expect(await imageConfigPath()).toBe('/etc/pipewarden/pipewarden.yaml');
    expect(hostPathFor(service('pipewarden'), await imageConfigPath())).toBe(path.join(DEPLOY_DIR, 'pipewarden.yaml'));
  });

  it('Prometheus scrapes job pipewarden as the alert rules expect and loads rule files compose mounts', async () => {
    const { config } = await prometheusConfig();
    const job = pipewardenJob(config);
    expect(job.honor_labels ?? false).toBe(false);
    expect(job.scrape_interval).toBe('15s');
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/pipewarden.rules.yml']);
    for (const rules of config.rule_files ?? []) {
      const host = hostPathFor(service('prometheus'), rules);
      expect(host, `rule_files ${rules}: compose mounts nothing there`).toBeDefined();
      expect(existsSync(host as string), `rule_files ${rules} is ${host} on the host, which does not exist`).toBe(true);
    }
    expect(containerPorts(service('prometheus'))).toEqual([prometheusPort()]);
  });

  it('Grafana provisions a datasource at the prometheus service and dashboards from where compose mounts them', async () => {
    const grafana = service('grafana');
    const datasourcesDir = hostPathFor(grafana, '/etc/grafana/provisioning/datasources');
    const dashboardsDir = hostPathFor(grafana, '/etc/grafana/provisioning/dashboards');
    expect(datasourcesDir && existsSync(datasourcesDir), 'compose mounts a provisioning/datasources folder that exists').toBe(true);
    expect(dashboardsDir && existsSync(dashboardsDir), 'compose mounts a provisioning/dashboards folder that exists').toBe(true);

    const datasources = await yamlDocumentsIn(datasourcesDir as string);
    type Datasource = { type?: string; url?: string; uid?: string; jsonData?: { timeInterval?: string } };
    const prometheus = datasources.flatMap((document) => (document.datasources ?? []) as Datasource[]).filter((source) => source.type === 'prometheus');
    expect(prometheus.map((source) => source.uid)).toContain('pipewarden-prometheus');
    const { config } = await prometheusConfig();
    for (const source of prometheus) {
      const url = new URL(source.url ?? '');
      expect(`${url.hostname}:${url.port}`).toBe(`prometheus:${prometheusPort()}`);
      // $__rate_interval in the dashboards is derived from it: it must be the scrape interval.
      if (source.jsonData?.timeInterval !== undefined) expect(source.jsonData.timeInterval).toBe(pipewardenJob(config).scrape_interval);
    }

    const providers = (await yamlDocumentsIn(dashboardsDir as string)).flatMap((document) => (document.providers ?? []) as { options?: { path?: string } }[]);
    expect(providers.length).toBeGreaterThan(0);
    for (const provider of providers) {
      const host = hostPathFor(grafana, provider.options?.path ?? '');
      expect(host, `provider path ${provider.options?.path}: compose mounts nothing there`).toBe(path.join(REPO_DIR, 'dashboards'));
      const dashboards = (await readdir(host as string)).filter((name) => name.endsWith('.json'));
      expect(dashboards.length, `${host} holds no dashboard JSON`).toBeGreaterThan(0);
    }
  });
});

async function yamlDocumentsIn(dir: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name) && statSync(path.join(dir, name)).isFile());
  return Promise.all(names.map(async (name) => (await readYamlFile(path.join(dir, name))) as Record<string, unknown>));
}

describe('deploy/prometheus.yml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-prometheus-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // rule_files are container paths; the copy points them at the files compose mounts there.
  it('passes promtool check config with its rule files as compose mounts them', async () => {
    const { config } = await prometheusConfig();
    const rules = (config.rule_files ?? []).map((file) => hostPathFor(service('prometheus'), file) as string);
    const copies = await Promise.all(rules.map(async (file, index) => {
      const copy = path.join(dir, `rules-${index}.yml`);
      await copyFile(file, copy);
      return copy;
    }));
    const checked = path.join(dir, 'prometheus.yml');
    await writeFile(checked, stringify({ ...config, rule_files: copies }));
    const result = await runProgram(process.env.PROMTOOL ?? 'promtool', ['check', 'config', checked], { cwd: dir });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('fails promtool when a rule file it names is missing (the check above can fail)', async () => {
    const { config } = await prometheusConfig();
    const checked = path.join(dir, 'broken.yml');
    await writeFile(checked, stringify({ ...config, rule_files: [path.join(dir, 'missing.rules.yml')] }));
    const result = await runProgram(process.env.PROMTOOL ?? 'promtool', ['check', 'config', checked], { cwd: dir });
    expect(result.code).not.toBe(0);
  });
});

describe('healthchecks against pipewarden\'s real routes', () => {
  const metrics = new Metrics();
  const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: testLogger(), metrics, maxBodyBytes: 1024 });
  let ready = true;
  let port = '';
  const report = (): ReadinessReport => ({
    status: ready ? 'ready' : 'not_ready',
    state_db: { status: 'up', duration_ms: 1 },
    warehouses: { warehouse: ready ? { status: 'up', duration_ms: 1 } : { status: 'down', code: 'warehouse_unreachable', duration_ms: 1 } },
  });

  beforeAll(async () => {
    mountHealthRoutes(server, { metrics, readiness: () => Promise.resolve(report()) });
    port = new URL(await server.listen()).port;
  });
  afterAll(() => server.close(1_000));

  /** Runs a healthcheck's exec-form command, pointed at the test server's port instead of 9464. */
  function runHealthcheck(command: readonly string[]): Promise<{ code: number }> {
    const [program, ...args] = command.map((arg) => arg.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
    expect(program).toBe('node');
    return runProgram(process.execPath, args);
  }

  it('the image HEALTHCHECK passes on /healthz, even while not ready', async () => {
    const { healthcheck } = readDockerfileFacts(await readFile(path.join(REPO_DIR, 'Dockerfile'), 'utf8'));
    ready = false;
    expect((await runHealthcheck(healthcheck)).code).toBe(0);
  });

  it('the compose healthcheck passes when ready and fails when a dependency is down', async () => {
    const test = service('pipewarden').healthcheck?.test;
    expect(Array.isArray(test) && test[0] === 'CMD').toBe(true);
    const command = (test as string[]).slice(1);
    ready = true;
    expect((await runHealthcheck(command)).code).toBe(0);
    ready = false;
    expect((await runHealthcheck(command)).code).toBe(1);
  });
});

/** The init scripts compose mounts, in the order the postgres image runs them. */
async function initScripts(): Promise<string[]> {
  const dir = hostPathFor(service('postgres'), '/docker-entrypoint-initdb.d');
  if (dir === undefined) throw new Error('compose mounts nothing at /docker-entrypoint-initdb.d for postgres');
  return (await readdir(dir)).sort().map((name) => path.join(dir, name));
}

/**
 * Runs one init script as the postgres image's entrypoint does: `*.sql` through psql, stopping at
 * the first error; `*.sh` executed with POSTGRES_USER, POSTGRES_DB and the service's environment.
 * psql reaches the test server through the PG* variables instead of the image's local socket.
 */
function runInitScript(file: string, database: TestDatabase): Promise<{ code: number; output: string }> {
  const url = new URL(database.url);
  const env = {
    ...serviceEnvironment(service('postgres')),
    PATH: process.env.PATH,
    PGHOST: url.hostname,
    PGPORT: url.port,
    PGUSER: decodeURIComponent(url.username),
    PGPASSWORD: decodeURIComponent(url.password),
    POSTGRES_USER: decodeURIComponent(url.username),
    POSTGRES_DB: url.pathname.slice(1),
  };
  if (file.endsWith('.sql')) return runProgram('psql', ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '--dbname', env.POSTGRES_DB, '--file', file], { env });
  return runProgram(file, [], { env });
}

const READER_ROLE = 'pipewarden_reader';

describe('deploy/pipewarden.yaml on the warehouse the init scripts make', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let readerUrl: string;

  beforeAll(async () => {
    [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
    // 00-databases.sql only creates the state database, which the test server already has
    // (createTestDatabase); run on the shared test server it would leave a database behind.
    for (const file of (await initScripts()).filter((name) => !name.endsWith('00-databases.sql'))) {
      const result = await runInitScript(file, warehouse);
      if (result.code === 127) throw new Error('psql was not found: install the PostgreSQL client (apt-get install postgresql-client) to run the init scripts');
      if (result.code !== 0) throw new Error(`${path.relative(REPO_DIR, file)} failed as the postgres image would run it:\n${result.output}`);
    }
    // Connect the way compose's WAREHOUSE_URL does: as the read-only role, with its password.
    const composeUrl = new URL(serviceEnvironment(service('pipewarden')).WAREHOUSE_URL ?? '');
    const url = new URL(warehouse.url);
    url.username = composeUrl.username;
    url.password = composeUrl.password;
    readerUrl = url.toString();
  });
  afterAll(async () => {
    await Promise.all([state?.drop(), warehouse?.drop()]);
    // The role belongs to the whole test server; its grants went with the warehouse database.
    const admin = new pg.Client({ connectionString: embeddedServerUrl() });
    await admin.connect();
    await admin.query(`drop role if exists ${READER_ROLE}`).finally(() => admin.end());
  });

  it('makes a read-only role that can read the tables and not write them', async () => {
    const reader = new pg.Client({ connectionString: readerUrl });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ count: string }>('select count(*) from public.orders');
      expect(Number(rows[0]?.count)).toBeGreaterThan(0);
      await expect(reader.query("insert into public.orders (store_id, amount, status) values (1, 1, 'x')")).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });

  it('passes pipewarden validate with only the environment compose gives it, and not without it', async () => {
    const env = serviceEnvironment(service('pipewarden'));
    const outcome = await runCliCaptured(['validate', '--config', path.join(DEPLOY_DIR, 'pipewarden.yaml')], { env, cwd: REPO_DIR, now: () => new Date() });
    expect(outcome.code, outcome.stderr).toBe(0);
    const missing = await checkConfigFile(path.join(DEPLOY_DIR, 'pipewarden.yaml'), {});
    expect(missing.problems.map((problem) => problem.path)).toContain('warehouses.warehouse.url');
  });

  it('finds the seeded tables and measures every monitor\'s checks on them with `pipewarden check`, as the read-only role', async () => {
    const env = { ...serviceEnvironment(service('pipewarden')), DATABASE_URL: state.url, WAREHOUSE_URL: readerUrl };
    const config = await pipewardenConfig(env);
    const outcome = await runCliCaptured(['check', '--json', '--config', path.join(DEPLOY_DIR, 'pipewarden.yaml')], { env, cwd: REPO_DIR, now: () => new Date() });
    expect(outcome.stdout, outcome.stderr).not.toBe('');
    const { findings } = JSON.parse(outcome.stdout) as { findings: { check: string; kind: string; asset: string; status: string; message: string }[] };
    const expected = config.monitors.flatMap((monitor) =>
      [monitor.freshness && 'freshness', monitor.volume && 'volume', monitor.schema && 'schema'].filter(Boolean).flatMap((kind) => monitor.assets.map((asset) => `${String(kind)}:${asset}`)),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(findings.map((finding) => finding.check)).toEqual(expect.arrayContaining(expected));
    expect(findings.filter((finding) => finding.status === 'error').map((finding) => `${finding.check}: ${finding.message}`)).toEqual([]);
  });
});
