import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { Environment } from '../config/environment.ts';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Environment;
  /** Working directory relative paths (config, data folders) resolve against. */
  cwd: string;
  /** The clock for commands that report relative to now (backtest); tests pass a fixed one. */
  now?: () => Date;
}

/**
 * One CLI command. Each lives in its own file under src/cli/ and is listed once in index.ts, so
 * adding a command is adding a file. `run` resolves to the process exit code.
 */
export interface CliCommand {
  register(program: Command, io: CliIo, finish: (exitCode: number) => void): void;
}

/** Options every command accepts. */
export interface GlobalOptions {
  config: string;
  json?: boolean;
}

export const DEFAULT_CONFIG_PATH = './pipewarden.yaml';

export function writeLine(stream: Writable, line: string): void {
  stream.write(`${line}\n`);
}

export function writeJson(stream: Writable, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}
