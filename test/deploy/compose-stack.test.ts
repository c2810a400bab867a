// The compose stack (deploy/) holds together. No Docker engine runs here, so instead of starting
// it these tests check that its files agree with each other and with pipewarden: the ports, the
// paths compose mounts and the services read, the names services reach each other by, and
// Prometheus's config through promtool. stack-healthchecks and stack-warehouse test the rest.

import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseDuration } from '../../src/config/duration.ts';
import { composeService, imageConfigPath, pipewardenConfig, pipewardenJob, prometheusConfig, prometheusPort, readRepoDockerfile, yamlDocumentsIn } from './stack-config.ts';
import { commandText, containerPorts, DEPLOY_DIR, dependsOn, hostPathFor, httpUrlsIn, readCompose, REPO_DIR, runProgram, serviceEnvironment, serviceMounts } from './stack-files.ts';
import type { ComposeFile } from './stack-files.ts';

const REQUIRED_SERVICES = ['postgres', 'pipewarden', 'prometheus', 'grafana'];

let compose: ComposeFile;

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
    const env = serviceEnvironment(composeService(compose, 'pipewarden'));
    for (const key of ['DATABASE_URL', 'WAREHOUSE_URL']) {
      const host = new URL(env[key] ?? 'postgres://missing/').hostname;
      if (!names.includes(host)) problems.push(`services.pipewarden.environment.${key}: host "${host}" is no service`);
    }
    expect(problems).toEqual([]);
    expect(dependsOn(composeService(compose, 'pipewarden'))).toContain('postgres');
    expect(dependsOn(composeService(compose, 'grafana'))).toContain('prometheus');
  });

  it('lets pipewarden start only once postgres is healthy, checked with pg_isready', () => {
    expect(composeService(compose, 'pipewarden').depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(commandText(composeService(compose, 'postgres').healthcheck?.test)).toContain('pg_isready');
  });

  it('creates the databases pipewarden connects to, and the read-only role it connects as', async () => {
    const env = serviceEnvironment(composeService(compose, 'pipewarden'));
    const state = new URL(env.DATABASE_URL ?? '');
    const warehouse = new URL(env.WAREHOUSE_URL ?? '');
    const initdb = hostPathFor(composeService(compose, 'postgres'), '/docker-entrypoint-initdb.d');
    expect(initdb, 'postgres mounts deploy/initdb at /docker-entrypoint-initdb.d').toBeDefined();
    const scripts = await Promise.all((await readdir(initdb as string)).sort().map((name) => readFile(path.join(initdb as string, name), 'utf8')));
    const all = scripts.join('\n');
    expect(all).toMatch(new RegExp(`CREATE DATABASE ${state.pathname.slice(1)};`));
    // The warehouse is the image's POSTGRES_DB, which the init scripts run in.
    expect(serviceEnvironment(composeService(compose, 'postgres')).POSTGRES_DB).toBe(warehouse.pathname.slice(1));
    expect(all).toContain(`CREATE ROLE ${warehouse.username} LOGIN PASSWORD :'password'`);
    expect(serviceEnvironment(composeService(compose, 'postgres')).WAREHOUSE_READER_PASSWORD).toBe(decodeURIComponent(warehouse.password));
    expect(serviceEnvironment(composeService(compose, 'postgres')).POSTGRES_PASSWORD).toBe(decodeURIComponent(state.password));
  });
});

describe('ports and paths agree', () => {
  it('pipewarden listens on all interfaces at the port Prometheus scrapes, compose publishes and the healthchecks ask', async () => {
    const config = await pipewardenConfig(compose, serviceEnvironment(composeService(compose, 'pipewarden')));
    const port = config.server.port;
    expect(config.server.host).toBe('0.0.0.0');
    const { config: prometheus } = await prometheusConfig(compose);
    const targets = pipewardenJob(prometheus).static_configs?.flatMap((group) => group.targets) ?? [];
    expect(targets).toEqual([`pipewarden:${port}`]);
    expect(containerPorts(composeService(compose, 'pipewarden'))).toEqual([port]);
    const composeProbe = httpUrlsIn(commandText(composeService(compose, 'pipewarden').healthcheck?.test));
    expect(composeProbe.map((url) => `${url.port}${url.pathname}`)).toEqual([`${port}/readyz`]);
    const image = await readRepoDockerfile();
    expect(image.exposed).toEqual([port]);
    expect(httpUrlsIn(image.healthcheck.join(' ')).map((url) => `${url.port}${url.pathname}`)).toEqual([`${port}/healthz`]);
  });

  // Docker sends SIGKILL stop_grace_period after SIGTERM (10s unless set): shorter than
  // shutdown_timeout, it would cut off the work pipewarden was letting finish.
  it('compose gives pipewarden longer to stop than its shutdown_timeout', async () => {
    const config = await pipewardenConfig(compose, serviceEnvironment(composeService(compose, 'pipewarden')));
    const grace = parseDuration(composeService(compose, 'pipewarden').stop_grace_period ?? '10s');
    expect(grace, 'services.pipewarden.stop_grace_period').toBeGreaterThan(config.shutdown_timeout);
  });

  it('the image reads its config where compose mounts deploy/pipewarden.yaml', async () => {
    expect(await imageConfigPath()).toBe('/etc/pipewarden/pipewarden.yaml');
    expect(hostPathFor(composeService(compose, 'pipewarden'), await imageConfigPath())).toBe(path.join(DEPLOY_DIR, 'pipewarden.yaml'));
  });

  it('Prometheus scrapes job pipewarden as the alert rules expect and loads rule files compose mounts', async () => {
    const { config } = await prometheusConfig(compose);
    const job = pipewardenJob(config);
    expect(job.honor_labels ?? false).toBe(false);
    expect(job.scrape_interval).toBe('15s');
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/pipewarden.rules.yml']);
    for (const rules of config.rule_files ?? []) {
      const host = hostPathFor(composeService(compose, 'prometheus'), rules);
      expect(host, `rule_files ${rules}: compose mounts nothing there`).toBeDefined();
      expect(existsSync(host as string), `rule_files ${rules} is ${host} on the host, which does not exist`).toBe(true);
    }
    expect(containerPorts(composeService(compose, 'prometheus'))).toEqual([prometheusPort(compose)]);
  });

  it('Grafana provisions a datasource at the prometheus service and dashboards from where compose mounts them', async () => {
    const grafana = composeService(compose, 'grafana');
    const datasourcesDir = hostPathFor(grafana, '/etc/grafana/provisioning/datasources');
    const dashboardsDir = hostPathFor(grafana, '/etc/grafana/provisioning/dashboards');
    expect(datasourcesDir && existsSync(datasourcesDir), 'compose mounts a provisioning/datasources folder that exists').toBe(true);
    expect(dashboardsDir && existsSync(dashboardsDir), 'compose mounts a provisioning/dashboards folder that exists').toBe(true);

    const datasources = await yamlDocumentsIn(datasourcesDir as string);
    type Datasource = { type?: string; url?: string; uid?: string; jsonData?: { timeInterval?: string } };
    const prometheus = datasources.flatMap((document) => (document.datasources ?? []) as Datasource[]).filter((source) => source.type === 'prometheus');
    expect(prometheus.map((source) => source.uid)).toContain('pipewarden-prometheus');
    const { config } = await prometheusConfig(compose);
    for (const source of prometheus) {
      const url = new URL(source.url ?? '');
      expect(`${url.hostname}:${url.port}`).toBe(`prometheus:${prometheusPort(compose)}`);
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

describe('deploy/prometheus.yml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-prometheus-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // rule_files are container paths; the copy points them at the files compose mounts there.
  it('passes promtool check config with its rule files as compose mounts them', async () => {
    const { config } = await prometheusConfig(compose);
    const rules = (config.rule_files ?? []).map((file) => hostPathFor(composeService(compose, 'prometheus'), file) as string);
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
    const { config } = await prometheusConfig(compose);
    const checked = path.join(dir, 'broken.yml');
    await writeFile(checked, stringify({ ...config, rule_files: [path.join(dir, 'missing.rules.yml')] }));
    const result = await runProgram(process.env.PROMTOOL ?? 'promtool', ['check', 'config', checked], { cwd: dir });
    expect(result.code).not.toBe(0);
  });
});

