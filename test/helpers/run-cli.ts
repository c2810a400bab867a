// Runs the real CLI (commander included) in-process with captured output, as the CLI tests do.

import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/cli-io.ts';
import { runCli } from '../../src/cli/index.ts';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliCaptured(args: readonly string[], io: Omit<CliIo, 'stdout' | 'stderr'>): Promise<CliOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const captured = { stdout: '', stderr: '' };
  stdout.on('data', (chunk: Buffer) => (captured.stdout += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (captured.stderr += chunk.toString()));
  const code = await runCli(['node', 'pipewarden', ...args], { ...io, stdout, stderr });
  return { code, ...captured };
}
