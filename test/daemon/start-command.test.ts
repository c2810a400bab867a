import { PassThrough } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH } from '../../src/cli/cli-io.ts';
import { startCommand } from '../../src/cli/start.ts';
import { freePort } from '../helpers/free-port.ts';
import { daemonConfigInput } from './daemon-config.ts';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

async function runStart(args: string[], cwd: string): Promise<{ error: unknown; stdout: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const program = new Command('pipewarden').option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH).exitOverride();
  program.configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  startCommand.register(program, { stdout, stderr, env: {}, cwd }, () => undefined);
  let error: unknown;
  try {
    await program.parseAsync(['start', ...args], { from: 'user' });
  } catch (caught) {
    error = caught;
  }
  return { error, stdout: out() };
}

describe('pipewarden start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-start-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fails fast when the state database is unreachable, logging why without the password', async () => {
    const stateUrl = `postgres://pw:hunter2@127.0.0.1:${await freePort()}/pipewarden`;
    const warehouseUrl = `postgres://reader:hunter2@127.0.0.1:${await freePort()}/analytics`;
    await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(daemonConfigInput(stateUrl, { analytics: warehouseUrl })));
    const { error, stdout } = await runStart(['--log-level', 'debug'], dir);
    expect(error).toMatchObject({ code: 'state_unreachable' });
    const fatal = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'fatal');
    expect(fatal?.msg).toMatch(/^pipewarden could not start: Cannot connect to the state database at 127\.0\.0\.1:\d+\/pipewarden/);
    expect(stdout).not.toContain('hunter2');
  });

  it('refuses an unknown --log-level', async () => {
    const { error } = await runStart(['--log-level', 'loud'], dir);
    expect(error).toMatchObject({ code: 'commander.invalidArgument' });
  });
});
