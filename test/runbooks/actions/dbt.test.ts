// The dbt action with a fake dbt executable (test/runbooks/fixtures/fake-dbt.mjs) that records
// the argv it receives: what is under test is argv building and process handling, not dbt.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { isDestructive, isIdempotent, StepFailedError } from '../../../src/runbooks/action.ts';
import type { StepOutputs } from '../../../src/runbooks/action.ts';
import { dbtAction, runDbt } from '../../../src/runbooks/actions/dbt.ts';
import { testActionContext } from '../../helpers/action-context.ts';

const FAKE_DBT = join(import.meta.dirname, '..', 'fixtures', 'fake-dbt.mjs');
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'pipewarden-dbt-')));
const projectDir = join(scratch, 'project');
mkdirSync(projectDir);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type DbtConfig = NonNullable<NonNullable<ConfigInput['runbooks']>['dbt']>;
let records = 0;

interface DbtRun {
  outputs: StepOutputs;
  /** What the fake dbt received: its arguments and working folder. */
  received: { argv: string[]; cwd: string };
}

function newRecordFile(): string {
  records += 1;
  return join(scratch, `record-${records}.json`);
}

function call(withValue: Record<string, unknown>, record: string, options: { dbt?: DbtConfig | null; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<StepOutputs> {
  const dbt = options.dbt === null ? undefined : (options.dbt ?? { project_dir: projectDir, executable: FAKE_DBT });
  const context = testActionContext({ config: { runbooks: { folder: scratch, ...(dbt ? { dbt } : {}) } }, signal: options.signal });
  const input = dbtAction.input.parse({ ...withValue, env: { FAKE_DBT_RECORD: record, ...options.env } });
  return runDbt(input, context, { killGraceMs: 300 });
}

async function run(withValue: Record<string, unknown>, options: { dbt?: DbtConfig } = {}): Promise<DbtRun> {
  const record = newRecordFile();
  const outputs = await call(withValue, record, options);
  return { outputs, received: JSON.parse(readFileSync(record, 'utf8')) as DbtRun['received'] };
}

async function failure(promise: Promise<unknown>): Promise<StepFailedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepFailedError);
  return error as StepFailedError;
}

function parseError(withValue: Record<string, unknown>): string {
  const result = dbtAction.input.safeParse(withValue);
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => issue.message).join('\n') ?? '';
}

describe('dbt: argv', () => {
  it('builds every option as its own argv element, in the project folder', async () => {
    const dbt = { project_dir: projectDir, profiles_dir: join(scratch, 'profiles'), executable: FAKE_DBT, target: 'prod' };
    const { outputs, received } = await run(
      { command: 'build', select: ['orders+', 'tag:inventory'], exclude: ['stg_legacy'], full_refresh: true, vars: { day: '2025-11-03', stores: [1, 2] }, args: ['--threads', '4'] },
      { dbt },
    );
    const expected = ['build', '--project-dir', projectDir, '--profiles-dir', dbt.profiles_dir, '--target', 'prod', '--select', 'orders+', 'tag:inventory', '--exclude', 'stg_legacy', '--full-refresh', '--vars', '{"day":"2025-11-03","stores":[1,2]}', '--threads', '4'];
    expect(received).toEqual({ argv: expected, cwd: projectDir });
    expect(outputs).toMatchObject({ argv: [FAKE_DBT, ...expected], exit_code: 0, signal: null, stdout_tail: `fake dbt ${expected.join(' ')}` });
  });

  it('leaves out what is not given', async () => {
    const { received } = await run({ command: 'retry' });
    expect(received.argv).toEqual(['retry', '--project-dir', projectDir]);
  });

  it('passes hostile selector text as one literal element and runs no shell', async () => {
    const marker = join(scratch, 'pwned');
    const select = [`orders $(touch ${marker}-1)`, `\`touch ${marker}-2\``, `x; touch ${marker}-3`, `it's "quoted"\nnext`];
    const { received } = await run({ command: 'run', select, vars: { note: '$(touch x) \'"' } });
    expect(received.argv.slice(3, 8)).toEqual(['--select', ...select]);
    expect(JSON.parse(received.argv[9] as string)).toEqual({ note: '$(touch x) \'"' });
    for (const suffix of ['-1', '-2', '-3']) expect(existsSync(marker + suffix)).toBe(false);
  });
});

describe('dbt: option injection', () => {
  it('rejects a select or exclude value that dbt would read as an option, and says why', () => {
    expect(parseError({ command: 'build', select: ['orders', '--target=prod'] })).toContain('"--target=prod" starts with "-", so dbt would read it as an option');
    expect(parseError({ command: 'build', exclude: ['-x'] })).toContain('"-x" starts with "-"');
    expect(dbtAction.input.safeParse({ command: 'build', select: ['orders-v2', '+orders', '@orders'] }).success).toBe(true);
  });

  it('refuses an option-like selector even in input that skipped the schema', async () => {
    const record = newRecordFile();
    const context = testActionContext({ config: { runbooks: { folder: scratch, dbt: { project_dir: projectDir, executable: FAKE_DBT } } } });
    const input = { ...dbtAction.input.parse({ command: 'run', env: { FAKE_DBT_RECORD: record } }), select: ['--target=prod'] };
    const error = await failure(runDbt(input, context));
    expect(error.message).toContain('"--target=prod" starts with "-"');
    expect(existsSync(record)).toBe(false);
  });

  it('accepts options the author wrote in args but not an element that a placeholder begins', () => {
    expect(dbtAction.checkDefinition?.({ command: 'build', args: ['--threads', '4', '--state=${steps.prep.state_dir}'] })).toEqual([]);
    const problems = dbtAction.checkDefinition?.({ command: 'build', args: ['--threads', '${params.threads}', ' ${finding.asset}'] }) ?? [];
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('args[1]: "${params.threads}" begins with a placeholder, whose value could start with "-"');
    expect(problems[1]).toContain('args[2]');
  });

  it('rejects select and exclude with retry, which re-runs the last failures', () => {
    expect(parseError({ command: 'retry', select: ['orders'] })).toContain('dbt retry');
  });

  it('rejects unknown commands and inputs', () => {
    expect(dbtAction.input.safeParse({ command: 'debug' }).success).toBe(false);
    expect(dbtAction.input.safeParse({ command: 'run', target: 'prod' }).success).toBe(false);
  });
});

describe('dbt: running', () => {
  it('fails on a non-zero exit and keeps the argv and output as evidence', async () => {
    const record = newRecordFile();
    const error = await failure(call({ command: 'test', select: ['orders'] }, record, { env: { FAKE_DBT_EXIT: '1' } }));
    expect(error.message).toContain('dbt test exited with code 1');
    expect(error.outputs).toMatchObject({ exit_code: 1, argv: [FAKE_DBT, 'test', '--project-dir', projectDir, '--select', 'orders'] });
    expect(error.outputs.stdout_tail).toContain('fake dbt test');
  });

  it('stops dbt when the step is aborted', async () => {
    const record = newRecordFile();
    const controller = new AbortController();
    const running = call({ command: 'build' }, record, { signal: controller.signal, env: { FAKE_DBT_SLEEP_MS: '60000' } });
    for (let tries = 0; tries < 200 && !existsSync(record); tries += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    controller.abort(new Error('run deadline passed'));
    const error = await failure(running);
    expect(error.message).toContain('dbt build was stopped (run deadline passed)');
    expect(error.outputs).toMatchObject({ signal: 'SIGTERM', argv: [FAKE_DBT, 'build', '--project-dir', projectDir] });
  });

  it('tells the author to configure runbooks.dbt.project_dir when there is no dbt project', async () => {
    const error = await failure(call({ command: 'build' }, newRecordFile(), { dbt: null }));
    expect(error.message).toContain('add runbooks.dbt.project_dir');
    expect(error.message).toContain('step "test-step" of runbook "test-runbook"');
  });

  it('says when the dbt executable is not found', async () => {
    const error = await failure(call({ command: 'build' }, newRecordFile(), { dbt: { project_dir: projectDir, executable: 'pipewarden-no-dbt' } }));
    expect(error.message).toContain('"pipewarden-no-dbt" was not found on PATH');
    expect(error.message).toContain('runbooks.dbt.executable');
  });
});

describe('dbt: declaration', () => {
  it('is idempotent, and destructive only with full_refresh', () => {
    const plain = dbtAction.input.parse({ command: 'run' });
    const refresh = dbtAction.input.parse({ command: 'run', full_refresh: true });
    expect(isIdempotent(dbtAction, plain)).toBe(true);
    expect(isDestructive(dbtAction, plain)).toBe(false);
    expect(isDestructive(dbtAction, refresh)).toBe(true);
  });

  it('publishes a description for every input', () => {
    const schema = z.toJSONSchema(dbtAction.input, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const [field, property] of Object.entries(schema.properties)) expect(property.description, field).toBeTruthy();
  });
});
