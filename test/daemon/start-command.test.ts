import { PassThrough } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../src/cli/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { daemonConfigInput } from './daemon-config.ts';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

async function runStart(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const [out, err] = [collect(stdout), collect(stderr)];
  const code = await runCli(['node', 'pipewarden', 'start', ...args], { stdout, stderr, env: {}, cwd });
  return { code, stdout: out(), stderr: err() };
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
    const { code, stdout, stderr } = await runStart(['--log-level', 'debug'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error \[state_unreachable\]: Cannot connect to the state database/);
    expect(stderr).not.toContain('hunter2');
    const fatal = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'fatal');
    expect(fatal?.msg).toMatch(/^pipewarden could not start: Cannot connect to the state database at 127\.0\.0\.1:\d+\/pipewarden/);
    expect(stdout).not.toContain('hunter2');
  });

  it('refuses an unknown --log-level', async () => {
    const { code, stderr } = await runStart(['--log-level', 'loud'], dir);
    expect(code).not.toBe(0);
    expect(stderr).toContain("Allowed choices are fatal, error, warn, info, debug, trace");
  });
});
