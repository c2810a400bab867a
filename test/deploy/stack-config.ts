// The compose stack's services and what they read, looked up the way the stack tests need them:
// a service by name, Prometheus's config through the path compose mounts it at, pipewarden's
// config through the path the image reads it from.

import { readdir, readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import path from 'node:path';
import { checkConfigFile } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';
import { commandText, hostPathFor, readDockerfileFacts, readYamlFile, REPO_DIR } from './stack-files.ts';
import type { ComposeFile, ComposeService } from './stack-files.ts';

export const PROMETHEUS_DEFAULT_PORT = 9090;

export interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs?: { job_name: string; honor_labels?: boolean; scrape_interval?: string; static_configs?: { targets: string[] }[] }[];
}

export function composeService(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`deploy/compose.yaml has no service "${name}"`);
  return found;
}

/** The value given to a `--flag=value` of a service's command. */
export function commandFlag(value: ComposeService, flag: string): string | undefined {
  const match = commandText(value.command).match(new RegExp(`${flag}=(\\S+)`));
  return match?.[1];
}

export async function prometheusConfig(compose: ComposeFile): Promise<{ file: string; config: PrometheusConfig }> {
  const prometheus = composeService(compose, 'prometheus');
  const containerPath = commandFlag(prometheus, '--config.file') ?? '/etc/prometheus/prometheus.yml';
  const file = hostPathFor(prometheus, containerPath);
  if (file === undefined) throw new Error(`compose mounts nothing at ${containerPath} for prometheus`);
  return { file, config: (await readYamlFile(file)) as PrometheusConfig };
}

export function pipewardenJob(config: PrometheusConfig): NonNullable<PrometheusConfig['scrape_configs']>[number] {
  const job = config.scrape_configs?.find((candidate) => candidate.job_name === 'pipewarden');
  if (!job) throw new Error('deploy/prometheus.yml has no scrape job named pipewarden (alerts/pipewarden.rules.yml reads job="pipewarden")');
  return job;
}

export function prometheusPort(compose: ComposeFile): number {
  const listen = commandFlag(composeService(compose, 'prometheus'), '--web.listen-address');
  return listen === undefined ? PROMETHEUS_DEFAULT_PORT : Number(listen.split(':').at(-1));
}

export async function readRepoDockerfile(): Promise<ReturnType<typeof readDockerfileFacts>> {
  return readDockerfileFacts(await readFile(path.join(REPO_DIR, 'Dockerfile'), 'utf8'));
}

/** Where the image reads its config: the Dockerfile's CMD `--config PATH`. */
export async function imageConfigPath(): Promise<string> {
  const { cmd } = await readRepoDockerfile();
  const index = cmd.indexOf('--config');
  return index >= 0 ? (cmd[index + 1] as string) : '';
}

/** pipewarden's config as the container sees it, checked by pipewarden itself; throws with every problem. */
export async function pipewardenConfig(compose: ComposeFile, env: Record<string, string>): Promise<Config> {
  const file = hostPathFor(composeService(compose, 'pipewarden'), await imageConfigPath());
  if (file === undefined) throw new Error(`compose mounts no config at ${await imageConfigPath()} for pipewarden`);
  const { config, problems } = await checkConfigFile(file, env);
  if (!config) throw new Error(`${path.relative(REPO_DIR, file)} is invalid:\n${problems.map((problem) => `${problem.location.line}:${problem.location.column} ${problem.path}: ${problem.message}`).join('\n')}`);
  return config;
}

/** Every YAML document in a provisioning folder. */
export async function yamlDocumentsIn(dir: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name) && statSync(path.join(dir, name)).isFile());
  return Promise.all(names.map(async (name) => (await readYamlFile(path.join(dir, name))) as Record<string, unknown>));
}
