import { Writable } from 'node:stream';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.ts';
import { DEFAULT_CONFIG_PATH } from '../../src/cli/cli-io.ts';
import { createValidateCommand, validateCommand } from '../../src/cli/validate.ts';
import type { FollowUpValidator } from '../../src/cli/validate.ts';
import type { CliCommand } from '../../src/cli/cli-io.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/config');
const ENV = { WAREHOUSE_URL: 'postgres://reader:pw@db/analytics' };

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

type Runner = (argv: readonly string[], io: CliIo, command: CliCommand) => Promise<number>;

/**
 * The real CLI entry point once every command it lists exists; until then a program built the
 * way index.ts builds it, with only the command under test.
 */
async function loadRunner(): Promise<Runner> {
  try {
    const { runCli } = await import('../../src/cli/index.ts');
    return (argv, io, command) => (command === validateCommand ? runCli(['node', 'pipewarden', ...argv], io) : runWith(argv, io, command));
  } catch {
    return runWith;
  }
}

async function runWith(argv: readonly string[], io: CliIo, command: CliCommand): Promise<number> {
  let exitCode = 0;
  const program = new Command('pipewarden').option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH).exitOverride();
  program.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  command.register(program, io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(['node', 'pipewarden', ...argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  return exitCode;
}

async function validate(argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; command?: CliCommand } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, env: options.env ?? ENV, cwd: options.cwd ?? FIXTURES };
  const run = await loadRunner();
  const exitCode = await run(argv, io, options.command ?? validateCommand);
  return { exitCode, stdout: stdout.text, stderr: stderr.text };
}

describe('pipewarden validate', () => {
  it('exits 0 and summarizes a valid config', async () => {
    const result = await validate(['--config', 'valid.yaml', 'validate']);
    expect(result).toEqual({ exitCode: 0, stdout: 'valid.yaml: valid (1 warehouse, 2 monitors, 0 runbooks)\n', stderr: '' });
  });

  it('exits 2 and prints every problem, one per line, to stderr', async () => {
    const result = await validate(['validate', '--config', 'five-mistakes.yaml']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('five-mistakes.yaml:7:5: warehouses.analytics.max_conections: unknown key "max_conections"; did you mean "max_connections"?');
    expect(lines.map((line) => line.split(':').slice(1, 3).join(':'))).toEqual(['7:5', '9:10', '13:16', '16:12', '19:15']);
  });

  it('prints { valid, problems } with --json', async () => {
    const result = await validate(['-c', 'five-mistakes.yaml', 'validate', '--json']);
    expect(result.exitCode).toBe(2);
    const output = JSON.parse(result.stdout) as { valid: boolean; problems: Record<string, unknown>[] };
    expect(output.valid).toBe(false);
    expect(output.problems).toHaveLength(5);
    expect(output.problems[4]).toEqual({
      file: 'five-mistakes.yaml',
      line: 19,
      column: 15,
      path: 'monitors[0].volume.bucket',
      message: 'expected a duration like "1h", got "1x"',
    });
  });

  it('prints valid: true with --json', async () => {
    const result = await validate(['validate', '--json', '--config', 'valid.yaml']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ valid: true, problems: [] });
  });

  it('reads ./pipewarden.yaml from the working directory by default', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-validate-'));
    const missing = await validate(['validate'], { cwd: directory });
    expect(missing).toMatchObject({ exitCode: 2, stderr: './pipewarden.yaml:1:1: config file not found (create one, or pass --config PATH)\n' });
    await writeFile(join(directory, 'pipewarden.yaml'), 'warehouses:\n  a: { type: postgres, url: "postgres://x" }\n  b: { type: postgres, url: "postgres://y" }\n');
    const found = await validate(['validate'], { cwd: directory });
    expect(found).toMatchObject({ exitCode: 0, stdout: './pipewarden.yaml: valid (2 warehouses, 0 monitors, 0 runbooks)\n' });
  });

  it('runs follow-up validators only on a valid config, and counts what they found', async () => {
    const seen: string[] = [];
    const runbooks: FollowUpValidator = {
      async validate(loaded) {
        seen.push(loaded.config.runbooks.folder);
        return {
          problems: [{ location: { file: 'runbooks/reload.yaml', line: 3, column: 5 }, path: 'steps[0].action', message: 'unknown action "rerun"' }],
          summary: ['1 runbook'],
        };
      },
    };
    const command = createValidateCommand([runbooks]);
    const invalid = await validate(['validate', '-c', 'five-mistakes.yaml'], { command });
    expect(invalid.exitCode).toBe(2);
    expect(seen).toEqual([]);
    const result = await validate(['validate', '-c', 'valid.yaml'], { command });
    expect(seen).toEqual([join(FIXTURES, 'runbooks')]);
    expect(result).toEqual({ exitCode: 2, stdout: '', stderr: 'runbooks/reload.yaml:3:5: steps[0].action: unknown action "rerun"\n' });
  });
});
