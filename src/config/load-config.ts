// Loads pipewarden.yaml: YAML with source positions → ${ENV} interpolation → DATABASE_URL
// fallback → zod schema → cross-field rules → absolute paths. Every problem found on the way is
// collected with file:line:column and its path in the document, so one run shows them all.

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isScalar, visit } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { ConfigProblem } from '../errors.ts';
import type { Environment } from './environment.ts';
import { checkConfigRules } from './config-rules.ts';
import { describeIssues } from './describe-issues.ts';
import type { IssueContext, PathProblem } from './describe-issues.ts';
import { formatPath } from './document-path.ts';
import type { DocumentPath } from './document-path.ts';
import { interpolateDocument, redactSubstitutions } from './interpolate-env.ts';
import type { DocumentInterpolation } from './interpolate-env.ts';
import { configSchema } from './schema.ts';
import { schemasAtPath, unwrapSchema } from './schema-walk.ts';
import type { AnySchema } from './schema-walk.ts';
import type { Config } from './schema.ts';
import { locate, locationAt, nodeAt, parseYamlSource } from './yaml-positions.ts';
import type { YamlSource } from './yaml-positions.ts';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file. */
  path: string;
  /** Absolute folder of the config file; relative paths in the config were resolved against it. */
  directory: string;
}

export interface ConfigCheck {
  /** Present only when there are no problems. */
  config?: Config;
  problems: ConfigProblem[];
}

export interface LoadOptions {
  /** Folder a relative config path is resolved against; the process's by default. */
  cwd?: string;
}

function wholeFileProblem(file: string, message: string): ConfigProblem {
  return { location: { file, line: 1, column: 1 }, path: '', message };
}

async function readConfigText(file: string, absolute: string): Promise<{ text?: string; problem?: ConfigProblem }> {
  try {
    return { text: await readFile(absolute, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { problem: wholeFileProblem(file, 'config file not found (create one, or pass --config PATH)') };
    if (code === 'EISDIR') return { problem: wholeFileProblem(file, 'is a folder, not a config file (pass --config PATH/pipewarden.yaml)') };
    if (code === 'EACCES') return { problem: wholeFileProblem(file, 'config file cannot be read: permission denied (check its owner and mode)') };
    throw error;
  }
}

/**
 * The document as plain data. The yaml library throws (rather than reporting) for an alias whose
 * anchor is missing and for alias expansion past its limit; both become problems here.
 */
export function documentData(source: YamlSource): { data?: unknown; problems: ConfigProblem[] } {
  try {
    return { data: source.document.toJS(), problems: [] };
  } catch (error) {
    const problems: ConfigProblem[] = [];
    visit(source.document, {
      Alias(_, alias) {
        if (alias.resolve(source.document) !== undefined) return;
        const location = locationAt(source, alias.range?.[0] ?? 0);
        problems.push({ location, path: '', message: `alias *${alias.source} has no anchor &${alias.source} before it; define the anchor first` });
      },
    });
    if (problems.length > 0) return { problems };
    return { problems: [wholeFileProblem(source.file, `YAML cannot be read: ${(error as Error).message}`)] };
  }
}

/** DESIGN: DATABASE_URL names the state database when the file does not. */
function applyDatabaseUrl(data: unknown, env: Environment): void {
  const url = env.DATABASE_URL;
  if (!url || data === null || typeof data !== 'object' || Array.isArray(data)) return;
  const fields = data as Record<string, unknown>;
  if (fields.state === undefined || fields.state === null) fields.state = { url };
  else if (typeof fields.state === 'object' && !Array.isArray(fields.state)) {
    const state = fields.state as Record<string, unknown>;
    if (state.url === undefined || state.url === null) state.url = url;
  }
}

/**
 * `state:` with every line under it commented out is an empty value, not a mistake: where the
 * schema would accept the key being left out, an empty value is read as left out.
 */
function dropEmptyOptionalValues(value: unknown, path: DocumentPath): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => dropEmptyOptionalValues(item, [...path, index]));
    return;
  }
  const fields = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(fields)) {
    if (field !== null) dropEmptyOptionalValues(field, [...path, key]);
    else if (schemasAtPath(configSchema, [...path, key]).some(acceptsOmission)) delete fields[key];
  }
}

function acceptsOmission(schema: AnySchema): boolean {
  const unwrapped = unwrapSchema(schema);
  return unwrapped.optional || unwrapped.hasDefault;
}

function issueContext(source: YamlSource, data: unknown): IssueContext {
  return {
    schema: configSchema,
    input: data,
    writtenText(path) {
      const node = nodeAt(source, path);
      if (!isScalar(node)) return undefined;
      // `source` is the scalar's text before interpolation, which is what the author wrote.
      return node.source ?? String(node.value);
    },
    hasKey: (path) => nodeAt(source, path) !== undefined,
  };
}

function isUnder(path: DocumentPath, prefix: DocumentPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => String(segment) === String(path[index]));
}

function validateData(source: YamlSource, data: unknown, interpolation: DocumentInterpolation): { config?: Config; problems: PathProblem[] } {
  if (source.document.contents === null || data === null || data === undefined) {
    return { problems: [{ path: [], target: 'value', message: 'config file is empty; start from pipewarden.example.yaml (at least one warehouse is needed)' }] };
  }
  const parsed = configSchema.safeParse(data);
  const broken = interpolation.problems.map((problem) => problem.path);
  // A scalar whose ${VAR} could not be filled is already reported; its schema error would repeat it.
  const schemaProblems = parsed.success
    ? []
    : describeIssues(parsed.error.issues, issueContext(source, data)).filter((problem) => !broken.some((path) => isUnder(problem.path, path)));
  const ruleProblems = checkConfigRules(data);
  const problems = [...interpolation.problems.map((problem) => ({ ...problem, target: 'value' as const })), ...schemaProblems, ...ruleProblems];
  return parsed.success && problems.length === 0 ? { config: parsed.data, problems } : { problems };
}

function toConfigProblem(source: YamlSource, problem: PathProblem, interpolation: DocumentInterpolation): ConfigProblem {
  const { location, path } = locate(source, problem.path, problem.target);
  return { location, path: formatPath(path), message: redactSubstitutions(problem.message, problem.path, interpolation) };
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.location.line - b.location.line || a.location.column - b.location.column;
}

function resolveRunbookPaths(runbooks: Config['runbooks'], absolute: (path: string) => string): Config['runbooks'] {
  const dbt = runbooks.dbt;
  return {
    ...runbooks,
    folder: absolute(runbooks.folder),
    ...(dbt === undefined
      ? {}
      : { dbt: { ...dbt, project_dir: absolute(dbt.project_dir), ...(dbt.profiles_dir === undefined ? {} : { profiles_dir: absolute(dbt.profiles_dir) }) } }),
  };
}

/** Relative paths in the config mean "next to the config file", wherever pipewarden runs from. */
function resolvePaths(config: Config, directory: string): Config {
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(directory, path));
  return {
    ...config,
    runbooks: resolveRunbookPaths(config.runbooks, absolute),
    dbt: config.dbt.map((target) => ({ ...target, target: absolute(target.target) })),
    state: { ...config.state, embedded: { ...config.state.embedded, dir: absolute(config.state.embedded.dir) } },
    ...(config.pagerduty?.ca_file === undefined ? {} : { pagerduty: { ...config.pagerduty, ca_file: absolute(config.pagerduty.ca_file) } }),
  };
}

/**
 * Checks config text without touching the file system. `file` is the name used in problems;
 * `directory` is what relative paths in the config are resolved against.
 */
export function checkConfigText(text: string, file: string, env: Environment, directory: string): ConfigCheck {
  const { source, problems: syntaxProblems } = parseYamlSource(file, text);
  // Past a syntax error the document's shape is a guess; schema errors on it would mislead.
  if (syntaxProblems.length > 0) return { problems: syntaxProblems };
  const interpolation = interpolateDocument(source, env);
  const { data, problems: aliasProblems } = documentData(source);
  if (aliasProblems.length > 0) return { problems: aliasProblems };
  dropEmptyOptionalValues(data, []);
  applyDatabaseUrl(data, env);
  const { config, problems } = validateData(source, data, interpolation);
  const located = problems.map((problem) => toConfigProblem(source, problem, interpolation)).sort(byPosition);
  return config ? { config: resolvePaths(config, directory), problems: [] } : { problems: located };
}

/** Reads and checks a config file; never throws for a problem in the file, only reports it. */
export async function checkConfigFile(path: string, env: Environment, options: LoadOptions = {}): Promise<ConfigCheck> {
  const absolute = resolve(options.cwd ?? process.cwd(), path);
  const { text, problem } = await readConfigText(path, absolute);
  if (problem) return { problems: [problem] };
  return checkConfigText(text as string, path, env, dirname(absolute));
}

/** Loads the config, or throws a ConfigError carrying every problem found. */
export async function loadConfig(path: string, env: Environment, options: LoadOptions = {}): Promise<LoadedConfig> {
  const absolute = resolve(options.cwd ?? process.cwd(), path);
  const { config, problems } = await checkConfigFile(path, env, options);
  if (!config) throw new ConfigError(problems);
  return { config, path: absolute, directory: dirname(absolute) };
}
