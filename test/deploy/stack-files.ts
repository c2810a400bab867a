// Reads the compose stack's files (deploy/compose.yaml and what it points at) the way Docker
// Compose, Prometheus and Grafana would, for the stack tests. No Docker engine runs in CI, so
// the stack is checked by agreement between its files rather than by starting it.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO_DIR = path.join(import.meta.dirname, '../..');
export const DEPLOY_DIR = path.join(REPO_DIR, 'deploy');
export const COMPOSE_FILE = path.join(DEPLOY_DIR, 'compose.yaml');

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  restart?: string;
  environment?: Record<string, string> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  ports?: (string | number | { target?: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
  stop_grace_period?: string;
  command?: string[] | string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export interface Mount {
  /** Absolute host path for a bind mount; undefined for a named volume. */
  hostPath?: string;
  volumeName?: string;
  target: string;
}

export async function readYamlFile(file: string): Promise<unknown> {
  return parse(await readFile(file, 'utf8'));
}

export async function readCompose(file = COMPOSE_FILE): Promise<ComposeFile> {
  return (await readYamlFile(file)) as ComposeFile;
}

/**
 * Compose's own interpolation of `${VAR}`, `${VAR:-default}` and `$$`, with the values the
 * environment gives (empty in the tests: the local defaults are what a bare `up` uses).
 */
export function interpolateCompose(text: string, env: Readonly<Record<string, string | undefined>> = {}): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const value = env[name as string];
    return value !== undefined && value !== '' ? value : (fallback ?? '');
  });
}

/** A service's environment as compose would hand it to the container. */
export function serviceEnvironment(service: ComposeService, env: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const)
    : Object.entries(service.environment ?? {});
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolateCompose(String(value), env)]));
}

/** Short (`./a:/b:ro`) and long (`{ source, target }`) volume syntax; host paths relative to deploy/. */
export function serviceMounts(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    const [source = '', target = ''] = typeof volume === 'string' ? volume.split(':') : [volume.source ?? '', volume.target ?? ''];
    const isPath = source.startsWith('.') || source.startsWith('/');
    return isPath ? { hostPath: path.resolve(DEPLOY_DIR, source), target } : { volumeName: source, target };
  });
}

/** The host path compose shows at `containerPath`, through the longest mount that covers it. */
export function hostPathFor(service: ComposeService, containerPath: string): string | undefined {
  const covering = serviceMounts(service)
    .filter((mount) => mount.hostPath !== undefined && (containerPath === mount.target || containerPath.startsWith(`${mount.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return covering ? path.join(covering.hostPath as string, path.relative(covering.target, containerPath)) : undefined;
}

/** Container ports a service publishes (`"9464:9464"`, `9464`, `{ target: 9464 }`). */
export function containerPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'number') return port;
    if (typeof port === 'object') return Number(port.target);
    return Number(port.split(':').at(-1)?.split('/')[0]);
  });
}

export function dependsOn(service: ComposeService): string[] {
  const dependencies = service.depends_on ?? [];
  return Array.isArray(dependencies) ? dependencies : Object.keys(dependencies);
}

/** Every http://host:port/path a string mentions (healthcheck scripts, URLs). */
export function httpUrlsIn(text: string): URL[] {
  return [...text.matchAll(/https?:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/[A-Za-z0-9._/-]*)?/g)].map((match) => new URL(match[0]));
}

export function commandText(value: string[] | string | undefined): string {
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

export interface DockerfileFacts {
  exposed: number[];
  /** The HEALTHCHECK's CMD as exec-form arguments (empty when there is none or it is shell form). */
  healthcheck: string[];
  entrypoint: string[];
  cmd: string[];
}

/** The few Dockerfile instructions the stack relies on, from the final stage. */
export function readDockerfileFacts(text: string): DockerfileFacts {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const stages = joined.split(/^FROM\s/im);
  const final = stages.at(-1) ?? '';
  const lines = final.split(/\r?\n/).filter((line) => !line.trimStart().startsWith('#'));
  const execForm = (instruction: RegExp): string[] => {
    const line = lines.find((candidate) => instruction.test(candidate));
    const json = line?.slice(line.indexOf('['));
    return json?.trim().startsWith('[') ? (JSON.parse(json) as string[]) : [];
  };
  const exposed = lines.filter((line) => /^\s*EXPOSE\s/i.test(line)).flatMap((line) => line.trim().split(/\s+/).slice(1).map((port) => Number(port.split('/')[0])));
  return { exposed, healthcheck: execForm(/^\s*HEALTHCHECK\s.*\bCMD\s+\[/i), entrypoint: execForm(/^\s*ENTRYPOINT\s/i), cmd: execForm(/^\s*CMD\s/i) };
}

export interface ToolRun {
  code: number;
  output: string;
}

/** Runs a program without a shell: every argument is a value, never command text. */
export function runProgram(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd ?? REPO_DIR, env: options.env, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) resolve({ code: 0, output });
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve({ code: 127, output: `${command} was not found` });
      else resolve({ code: typeof error.code === 'number' ? error.code : 1, output: output || error.message });
    });
  });
}
