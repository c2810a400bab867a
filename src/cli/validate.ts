// `pipewarden validate`: checks the config (and, through follow-up validators, what it points
// at) without connecting to anything. Prints every problem as file:line:column and exits 2, so it
// fits a pre-commit hook or a CI step; `--json` prints { valid, problems } for tools.

import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkConfigFile } from '../config/load-config.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { formatProblem } from '../errors.ts';
import type { ConfigProblem } from '../errors.ts';
import { writeJson, writeLine } from './cli-io.ts';
import type { CliCommand, CliIo, GlobalOptions } from './cli-io.ts';

/** Exit code for an invalid config, shared with runCli's handling of ConfigError. */
export const INVALID_CONFIG_EXIT_CODE = 2;

export interface ValidatorResult {
  problems: ConfigProblem[];
  /** Counted things for the success line, e.g. "4 runbooks". */
  summary: string[];
}

/**
 * A check over what a valid config points at (runbook files, dbt artifacts…). Runs only once the
 * config itself is valid, since it needs the config to know where to look.
 */
export interface FollowUpValidator {
  validate(loaded: LoadedConfig, io: CliIo): Promise<ValidatorResult>;
}

export interface ValidationReport {
  valid: boolean;
  problems: ConfigProblem[];
  summary: string[];
}

export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function configSummary(config: Config): string[] {
  return [countOf(Object.keys(config.warehouses).length, 'warehouse'), countOf(config.monitors.length, 'monitor')];
}

/** Runs the config check and then every follow-up validator; collects all problems. */
export async function validateProject(configPath: string, io: CliIo, followUps: readonly FollowUpValidator[]): Promise<ValidationReport> {
  const { config, problems } = await checkConfigFile(configPath, io.env, { cwd: io.cwd });
  if (!config) return { valid: false, problems, summary: [] };
  const absolute = resolve(io.cwd, configPath);
  const loaded: LoadedConfig = { config, path: absolute, directory: dirname(absolute) };
  const report: ValidationReport = { valid: true, problems: [], summary: configSummary(config) };
  for (const validator of followUps) {
    const result = await validator.validate(loaded, io);
    report.problems.push(...result.problems);
    report.summary.push(...result.summary);
  }
  report.valid = report.problems.length === 0;
  return report;
}

function printReport(report: ValidationReport, configPath: string, json: boolean, io: CliIo): void {
  if (json) {
    const problems = report.problems.map((problem) => ({ ...problem.location, path: problem.path, message: problem.message }));
    writeJson(io.stdout, { valid: report.valid, problems });
  } else if (report.valid) {
    writeLine(io.stdout, `${configPath}: valid (${report.summary.join(', ')})`);
  } else {
    for (const problem of report.problems) writeLine(io.stderr, formatProblem(problem));
  }
}

/** The validate command with its follow-up validators (the runbook validator joins here). */
export function createValidateCommand(followUps: readonly FollowUpValidator[]): CliCommand {
  return {
    register(program, io, finish) {
      program
        .command('validate')
        .description('Check the config file and report every problem with file:line:column; exit 2 when invalid')
        .option('--json', 'print { valid, problems } as JSON')
        .action(async (_options: unknown, command: Command) => {
          const options = command.optsWithGlobals<GlobalOptions>();
          const report = await validateProject(options.config, io, followUps);
          printReport(report, options.config, options.json === true, io);
          finish(report.valid ? 0 : INVALID_CONFIG_EXIT_CODE);
        });
    },
  };
}

export const validateCommand: CliCommand = createValidateCommand([]);
