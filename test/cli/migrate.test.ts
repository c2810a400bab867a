import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.ts';
import { migrateCommand } from '../../src/cli/migrate.ts';
import { readMigrationFiles } from '../../src/store/migration-files.ts';
import { freePort } from '../helpers/free-port.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Drives only the migrate command, through commander as the real CLI does. */
async function runMigrate(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (chunk: Buffer) => (chunks.stdout += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (chunks.stderr += chunk.toString()));
  const io: CliIo = { stdout, stderr, env, cwd };
  let code = -1;
  const program = new Command('pipewarden').option('-c, --config <path>', 'config file', './pipewarden.yaml').exitOverride();
  migrateCommand.register(program, io, (exitCode) => (code = exitCode));
  await program.parseAsync(['node', 'pipewarden', ...args]);
  return { code, ...chunks };
}

describe('pipewarden migrate', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await createBlankDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-cli-migrate-'));
    const config = ['warehouses:', '  analytics: { type: postgres, url: "postgres://127.0.0.1:1/warehouse" }', 'state:', '  url: ${DATABASE_URL}', ''];
    await writeFile(path.join(dir, 'pipewarden.yaml'), config.join('\n'));
  });

  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the migrations, then reports up to date', async () => {
    const newest = (await readMigrationFiles()).at(-1)?.version;
    const first = await runMigrate(dir, { DATABASE_URL: database.url }, 'migrate', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ applied: expect.arrayContaining(['0001_initial']), current: newest });

    const second = await runMigrate(dir, { DATABASE_URL: database.url }, 'migrate');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`up to date at version ${newest}: 127.0.0.1:`);
  });

  it('exits 1 and says to upgrade when the state database is ahead', async () => {
    const ahead = await createBlankDatabase();
    try {
      expect((await runMigrate(dir, { DATABASE_URL: ahead.url }, 'migrate')).code).toBe(0);
      await ahead.pool().query(`insert into pipewarden.schema_migrations (version, name, checksum) values (9999, 'future', '')`);
      const outcome = await runMigrate(dir, { DATABASE_URL: ahead.url }, 'migrate', '--json');
      expect(outcome.code).toBe(1);
      expect(JSON.parse(outcome.stdout)).toMatchObject({ error: { code: 'state_ahead' } });
      expect(outcome.stderr).toContain('error [state_ahead]: The state database schema is at version 9999');
    } finally {
      await ahead.drop();
    }
  });

  it('exits 1 with what to do when the state database cannot be reached', async () => {
    const closedPort = await freePort();
    const outcome = await runMigrate(dir, { DATABASE_URL: `postgres://pw:hunter2@127.0.0.1:${closedPort}/state` }, 'migrate');
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain(`error [state_unreachable]: Cannot connect to the state database at 127.0.0.1:${closedPort}/state`);
    expect(outcome.stderr).toContain('state.url');
    expect(outcome.stderr).not.toContain('hunter2');
  });
});
