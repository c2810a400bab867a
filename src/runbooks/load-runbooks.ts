// Loads the runbook folder: every `*.yaml`/`*.yml` in it is one runbook. Each file goes through
// the same steps as the config (YAML with source positions → zod schema with human messages),
// then the checks the schema cannot do (src/runbooks/check-runbook.ts), then is compiled once
// into the LoadedRunbook the executor runs. Every problem in every file is collected with
// file:line:column, so `pipewarden validate` shows them all in one go.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { FollowUpValidator } from '../cli/validate.ts';
import { countOf } from '../cli/validate.ts';
import { describeIssues } from '../config/describe-issues.ts';
import type { PathProblem } from '../config/describe-issues.ts';
import { suggestion } from '../config/did-you-mean.ts';
import { formatPath, valueAtPath } from '../config/document-path.ts';
import { documentData } from '../config/load-config.ts';
import { locate, parseYamlSource } from '../config/yaml-positions.ts';
import type { YamlSource } from '../config/yaml-positions.ts';
import { ConfigError, errorMessage } from '../errors.ts';
import type { ConfigProblem, SourceLocation } from '../errors.ts';
import { compileValue } from './bind-values.ts';
import { compileExpression } from './cel.ts';
import { fieldsOf, yamlIssueContext } from './check-action-inputs.ts';
import type { ActionRegistry } from './check-action-inputs.ts';
import { checkRunbookRules } from './check-runbook.ts';
import type { LoadedRunbook } from './loaded-runbook.ts';
import { ACTION_NAMES, runbookSchema } from './runbook-schema.ts';
import type { RunbookDefinition } from './runbook-schema.ts';

export type { ActionRegistry } from './check-action-inputs.ts';

export interface RunbookCheck {
  runbooks: LoadedRunbook[];
  problems: ConfigProblem[];
}

export interface LoadRunbooksOptions {
  /** Folder a relative `folder` is resolved against; the process's by default. */
  cwd?: string;
}

/** One file's outcome: the runbook when it has no problems, and its name and where it is written. */
export interface RunbookFileCheck {
  runbook?: LoadedRunbook;
  name?: { text: string; location: SourceLocation };
  problems: ConfigProblem[];
}

const RUNBOOK_FILE = /\.ya?ml$/;

function wholeFileProblem(file: string, message: string): ConfigProblem {
  return { location: { file, line: 1, column: 1 }, path: '', message };
}

/** The runbook file names in the folder, sorted (sub-folders are not read). */
async function listRunbookFiles(folder: string, absolute: string): Promise<{ names: string[]; problem?: ConfigProblem }> {
  try {
    const entries = await readdir(absolute, { withFileTypes: true });
    return { names: entries.filter((entry) => !entry.isDirectory() && RUNBOOK_FILE.test(entry.name)).map((entry) => entry.name).sort() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No folder means no runbooks yet: a fresh install pages without trying to recover.
    if (code === 'ENOENT') return { names: [] };
    if (code === 'ENOTDIR') return { names: [], problem: wholeFileProblem(folder, 'is a file, not a folder of runbooks; point runbooks.folder at a folder of *.yaml files') };
    if (code === 'EACCES') return { names: [], problem: wholeFileProblem(folder, 'runbook folder cannot be read: permission denied (check its owner and mode)') };
    throw error;
  }
}

/** Problems under `steps[N]` name the step too: "step 3" means little in a long runbook. */
function stepLabel(data: unknown, path: PathProblem['path']): string {
  if (path[0] !== 'steps' || typeof path[1] !== 'number') return '';
  const steps = fieldsOf(data)?.steps;
  const name = Array.isArray(steps) ? fieldsOf(steps[path[1]])?.name : undefined;
  return typeof name === 'string' ? `step "${name}": ` : '';
}

function toProblem(source: YamlSource, data: unknown, problem: PathProblem): ConfigProblem {
  const { location, path } = locate(source, problem.path, problem.target);
  return { location, path: formatPath(path), message: `${stepLabel(data, problem.path)}${problem.message}` };
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.location.line - b.location.line || a.location.column - b.location.column;
}

function compileRunbook(definition: RunbookDefinition, source: YamlSource, file: string, text: string): LoadedRunbook {
  const when = definition.match?.when;
  return {
    definition,
    file,
    source: text,
    digest: createHash('sha256').update(text).digest('hex'),
    ...(when === undefined ? {} : { when: compileExpression(when) }),
    steps: definition.steps.map((step, index) => ({
      definition: step,
      location: locate(source, ['steps', index], 'value').location,
      ...(step.if === undefined ? {} : { condition: compileExpression(step.if) }),
      inputs: compileValue(step.with),
    })),
  };
}

/** zod lists all the actions; for a misspelled one, the one meant is the better answer. */
function describeUnknownAction(problem: PathProblem, data: unknown): PathProblem {
  const [steps, index, key, ...rest] = problem.path;
  const action = valueAtPath(data, problem.path);
  if (steps !== 'steps' || typeof index !== 'number' || key !== 'action' || rest.length > 0 || typeof action !== 'string') return problem;
  return { ...problem, message: `unknown action "${action}"; ${suggestion(action, ACTION_NAMES)}` };
}

function validateRunbook(source: YamlSource, data: unknown, actions: ActionRegistry): { definition?: RunbookDefinition; problems: PathProblem[] } {
  if (source.document.contents === null || data === null || data === undefined) {
    return { problems: [{ path: [], target: 'value', message: 'runbook file is empty; a runbook needs at least a name and steps' }] };
  }
  const parsed = runbookSchema.safeParse(data);
  const issues = parsed.success ? [] : parsed.error.issues;
  const schemaProblems = describeIssues(issues, yamlIssueContext(source, runbookSchema, data)).map((problem) => describeUnknownAction(problem, data));
  const problems = [...schemaProblems, ...checkRunbookRules(data, actions, source)];
  return parsed.success && problems.length === 0 ? { definition: parsed.data, problems } : { problems };
}

/**
 * Checks one runbook's text without touching the file system. `file` is the name used in
 * problems; `absolute` is what the loaded runbook records as its file.
 */
export function checkRunbookText(text: string, file: string, actions: ActionRegistry, absolute: string = file): RunbookFileCheck {
  const { source, problems: syntaxProblems } = parseYamlSource(file, text);
  // Past a syntax error the document's shape is a guess; schema errors on it would mislead.
  if (syntaxProblems.length > 0) return { problems: syntaxProblems };
  const { data, problems: aliasProblems } = documentData(source);
  if (aliasProblems.length > 0) return { problems: aliasProblems };
  const written = fieldsOf(data)?.name;
  const name = typeof written === 'string' ? { text: written, location: locate(source, ['name'], 'value').location } : undefined;
  const { definition, problems } = validateRunbook(source, data, actions);
  if (!definition) return { name, problems: problems.map((problem) => toProblem(source, data, problem)).sort(byPosition) };
  return { runbook: compileRunbook(definition, source, absolute, text), name, problems: [] };
}

async function checkRunbookFile(file: string, absolute: string, actions: ActionRegistry): Promise<RunbookFileCheck> {
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    return { problems: [wholeFileProblem(file, `runbook file cannot be read: ${errorMessage(error)}`)] };
  }
  return checkRunbookText(text, file, actions, absolute);
}

/** Runbook names are what `pipewarden runbook run NAME` and the run records use: one file each. */
function withDuplicateNames(checks: readonly RunbookFileCheck[]): RunbookFileCheck[] {
  const firstFile = new Map<string, string>();
  return checks.map((check) => {
    const { name } = check;
    if (name === undefined) return check;
    const earlier = firstFile.get(name.text);
    if (earlier === undefined) {
      firstFile.set(name.text, name.location.file);
      return check;
    }
    const message = `runbook "${name.text}" is also defined in ${earlier}; runbook names must be unique, rename one of them`;
    return { name, problems: [...check.problems, { location: name.location, path: 'name', message }].sort(byPosition) };
  });
}

/** Reads and checks every runbook in `folder`; never throws for a problem in a file, only reports it. */
export async function loadRunbooks(folder: string, actions: ActionRegistry, options: LoadRunbooksOptions = {}): Promise<RunbookCheck> {
  const absoluteFolder = resolve(options.cwd ?? process.cwd(), folder);
  const { names, problem } = await listRunbookFiles(folder, absoluteFolder);
  if (problem) return { runbooks: [], problems: [problem] };
  const files = names.map((name) => ({ file: join(folder, name), absolute: join(absoluteFolder, name) }));
  const checks = withDuplicateNames(await Promise.all(files.map(({ file, absolute }) => checkRunbookFile(file, absolute, actions))));
  return {
    runbooks: checks.flatMap((check) => (check.runbook ? [check.runbook] : [])),
    problems: checks.flatMap((check) => check.problems),
  };
}

/** Loads the runbooks for the daemon, or throws a ConfigError carrying every problem found. */
export async function loadRunbooksOrThrow(folder: string, actions: ActionRegistry, options: LoadRunbooksOptions = {}): Promise<LoadedRunbook[]> {
  const { runbooks, problems } = await loadRunbooks(folder, actions, options);
  if (problems.length > 0) throw new ConfigError(problems);
  return runbooks;
}

/** `pipewarden validate` checks the runbook folder the config names, once the config is valid. */
export function runbookValidator(actions: ActionRegistry): FollowUpValidator {
  return {
    async validate(loaded, io) {
      // Problems name files the way the reader would type them, relative to where they ran.
      const folder = relative(io.cwd, loaded.config.runbooks.folder) || '.';
      const { runbooks, problems } = await loadRunbooks(folder, actions, { cwd: io.cwd });
      return { problems, summary: [countOf(runbooks.length, 'runbook')] };
    },
  };
}
