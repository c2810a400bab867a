// The command action against real processes: what argv and environment arrive, exit codes,
// output tails, and that stopping a step takes down everything it started.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isDestructive, isIdempotent, StepFailedError } from '../../../src/runbooks/action.ts';
import type { StepOutputs } from '../../../src/runbooks/action.ts';
import { commandAction, runCommand } from '../../../src/runbooks/actions/command.ts';
import type { CommandRunOptions } from '../../../src/runbooks/actions/command.ts';
import { MAX_LINE_CHARS, OutputTail, STDIO_DRAIN_MS } from '../../../src/runbooks/actions/process-runner.ts';
import { testActionContext } from '../../helpers/action-context.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const NODE = process.execPath;
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'pipewarden-command-')));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(withValue: Record<string, unknown>, options: { folder?: string; signal?: AbortSignal } & CommandRunOptions = {}): Promise<StepOutputs> {
  const context = testActionContext({ config: { runbooks: { folder: options.folder ?? scratch } }, signal: options.signal });
  return runCommand(commandAction.input.parse(withValue), context, options);
}

async function failure(promise: Promise<unknown>): Promise<StepFailedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepFailedError);
  return error as StepFailedError;
}

/** Running, as opposed to gone or a zombie waiting for a parent that never reaps it. */
function processRuns(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitForFile(path: string): Promise<string> {
  for (let tries = 0; tries < 200; tries += 1) {
    const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
    if (text !== '') return text;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} was never written`);
}

describe('command: argv', () => {
  it('passes hostile values as literal single arguments and runs no shell', async () => {
    const marker = join(scratch, 'pwned');
    const hostile = [`$(touch ${marker}-1)`, `\`touch ${marker}-2\``, `; touch ${marker}-3`, `x && touch ${marker}-4 | cat`, `it's "quoted"`, 'two\nlines', '*', '', '${HOME}', '$HOME'];
    const outputs = await run({ argv: [NODE, join(FIXTURES, 'print-argv.mjs'), ...hostile] });
    expect(JSON.parse(outputs.stdout_tail as string)).toEqual(hostile);
    for (const suffix of ['-1', '-2', '-3', '-4']) expect(existsSync(marker + suffix)).toBe(false);
    expect(outputs).toMatchObject({ exit_code: 0, signal: null, stderr_tail: '' });
    expect(outputs.duration_ms).toBeTypeOf('number');
  });

  it('resolves a program path with a "/" against the runbooks folder', async () => {
    // Run elsewhere, so a path taken relative to the working folder would not be found.
    const outputs = await run({ argv: ['./print-argv.mjs', 'a b'], cwd: scratch }, { folder: FIXTURES });
    expect(JSON.parse(outputs.stdout_tail as string)).toEqual(['a b']);
  });

  it('looks a bare program name up on PATH', async () => {
    const outputs = await run({ argv: ['echo', 'from PATH'] });
    expect(outputs.stdout_tail).toBe('from PATH');
  });

  it('says which program could not be found and that names are looked up on PATH', async () => {
    const error = await failure(run({ argv: ['pipewarden-no-such-program', 'x'] }));
    expect(error.message).toContain('"pipewarden-no-such-program" was not found on PATH');
    expect(error.outputs).toMatchObject({ exit_code: null });
  });

  it('says where a missing program path was looked for', async () => {
    const error = await failure(run({ argv: ['./bin/missing-loader'] }));
    expect(error.message).toContain(`there is no file "${join(scratch, 'bin/missing-loader')}"`);
    expect(error.message).toContain('runbooks folder');
  });

  it('blames the "#!" interpreter, not the script, when the interpreter is missing', async () => {
    writeFileSync(join(scratch, 'orphan-script'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
    const error = await failure(run({ argv: ['./orphan-script'] }));
    expect(error.message).toContain('the interpreter its "#!" line names was not found');
  });

  it('says when a program is not executable', async () => {
    writeFileSync(join(scratch, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
    const error = await failure(run({ argv: ['./not-executable'] }));
    expect(error.message).toContain('permission denied (is it executable? chmod +x it)');
  });

  it('rejects an empty argv or a NUL byte before running anything', () => {
    expect(commandAction.input.safeParse({ argv: [] }).success).toBe(false);
    expect(commandAction.input.safeParse({ argv: [''] }).success).toBe(false);
    expect(commandAction.input.safeParse({ argv: ['echo', 'a\0b'] }).success).toBe(false);
    expect(commandAction.input.safeParse({ argv: ['echo'], shell: true }).success).toBe(false);
  });
});

describe('command: exit codes and output', () => {
  it('fails on a non-success exit code and keeps the output as evidence', async () => {
    const error = await failure(run({ argv: [NODE, '-e', 'console.log("out"); console.error("disk full"); process.exit(3)'] }));
    expect(error.message).toContain('exited with code 3 (success is 0)');
    expect(error.message).toContain('disk full');
    expect(error.outputs).toMatchObject({ exit_code: 3, signal: null, stdout_tail: 'out', stderr_tail: 'disk full' });
  });

  it('accepts the exit codes listed in success_codes', async () => {
    const outputs = await run({ argv: [NODE, '-e', 'process.exit(3)'], success_codes: [0, 3] });
    expect(outputs.exit_code).toBe(3);
    const error = await failure(run({ argv: [NODE, '-e', 'process.exit(0)'], success_codes: [2, 3] }));
    expect(error.message).toContain('success is one of 2, 3');
  });

  it('fails when the program is killed by a signal', async () => {
    const error = await failure(run({ argv: [NODE, '-e', 'process.kill(process.pid, "SIGKILL")'] }));
    expect(error.message).toContain('killed by SIGKILL');
    expect(error.outputs).toMatchObject({ exit_code: null, signal: 'SIGKILL' });
  });

  it('keeps only the last lines of many megabytes of output', async () => {
    // About 30 MB of numbered lines on stdout, in blocking writes so the child itself stays small.
    const script = 'let n = 0; for (let c = 0; c < 30; c += 1) { let s = ""; for (let i = 0; i < 60_000; i += 1) s += `line ${(n += 1)} xxxx\\n`; require("fs").writeSync(1, s); } require("fs").writeSync(2, "done\\n")';
    const outputs = await run({ argv: [NODE, '-e', script], output_lines: 3 });
    expect(outputs.stdout_tail).toBe('line 1799998 xxxx\nline 1799999 xxxx\nline 1800000 xxxx');
    expect(outputs.stderr_tail).toBe('done');
  });

  it('cuts a megabytes-long line without a newline', async () => {
    const outputs = await run({ argv: [NODE, '-e', 'process.stdout.write("y".repeat(8_000_000))'] });
    expect(outputs.stdout_tail).toBe(`${'y'.repeat(MAX_LINE_CHARS)}… [line cut]`);
  });

  it('keeps nothing with output_lines: 0', async () => {
    const outputs = await run({ argv: [NODE, '-e', 'process.stdout.write("a\\nno newline"); process.stderr.write("b")'], output_lines: 0 });
    expect(outputs).toMatchObject({ stdout_tail: '', stderr_tail: '' });
  });

  it('holds a bounded amount of text however much is written', () => {
    const bound = 3 * (MAX_LINE_CHARS + 20) + MAX_LINE_CHARS + 20;
    const lines = new OutputTail(3);
    const chunk = Buffer.from('a line of output\n'.repeat(240)); // 4 KiB, as a pipe delivers it
    for (let written = 0; written < 16_384; written += 1) lines.write(chunk);
    expect(lines.heldChars()).toBeLessThan(bound);
    const oneLine = new OutputTail(3);
    const noNewline = Buffer.alloc(1 << 20, 'z');
    for (let written = 0; written < 256; written += 1) oneLine.write(noNewline);
    expect(oneLine.heldChars()).toBeLessThan(bound);
    expect(oneLine.text()).toBe(`${'z'.repeat(MAX_LINE_CHARS)}… [line cut]`);
  });

  it('defaults to the last 50 lines', async () => {
    const outputs = await run({ argv: [NODE, '-e', 'for (let i = 1; i <= 80; i += 1) console.log(i)'] });
    const lines = (outputs.stdout_tail as string).split('\n');
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe('31');
  });
});

describe('command: stopping', () => {
  it('stops the whole process group when the step is aborted', async () => {
    const pidFile = join(scratch, 'grandchild-term.pid');
    const controller = new AbortController();
    const running = run({ argv: [join(FIXTURES, 'spawn-grandchild.sh'), pidFile] }, { signal: controller.signal });
    const grandchild = Number(await waitForFile(pidFile));
    expect(processRuns(grandchild)).toBe(true);
    controller.abort(new Error('step timeout of 20m passed'));
    const error = await failure(running);
    expect(error.message).toMatch(/was stopped \(step timeout of 20m passed\): its process group got SIGTERM$/);
    expect(error.outputs).toMatchObject({ signal: 'SIGTERM', stdout_tail: 'started' });
    expect(processRuns(grandchild)).toBe(false);
  });

  it('sends SIGKILL after the grace to a group that ignores SIGTERM', async () => {
    const pidFile = join(scratch, 'grandchild-kill.pid');
    const controller = new AbortController();
    const running = run({ argv: [join(FIXTURES, 'spawn-grandchild.sh'), pidFile, 'ignore-term'] }, { signal: controller.signal, killGraceMs: 300 });
    const grandchild = Number(await waitForFile(pidFile));
    const abortedAt = performance.now();
    controller.abort();
    const error = await failure(running);
    expect(performance.now() - abortedAt).toBeGreaterThanOrEqual(250);
    expect(error.message).toContain('SIGTERM, then SIGKILL after 300 ms');
    expect(error.outputs).toMatchObject({ signal: 'SIGKILL' });
    expect(processRuns(grandchild)).toBe(false);
  });

  it('finishes when the program exits, even if a child it left behind holds its output open', async () => {
    const started = performance.now();
    const outputs = await run({ argv: ['sh', '-c', 'sleep 30 & echo $!'] });
    const leftover = Number(outputs.stdout_tail);
    process.kill(leftover, 'SIGKILL');
    expect(performance.now() - started).toBeLessThan(STDIO_DRAIN_MS + 2_000);
    expect(leftover).toBeGreaterThan(0);
  });

  it('does not wait out the grace for members that exited but linger as zombies', async () => {
    const pidFile = join(scratch, 'grandchild-orphan.pid');
    const controller = new AbortController();
    const running = run({ argv: [join(FIXTURES, 'spawn-grandchild.sh'), pidFile, 'orphan'] }, { signal: controller.signal, killGraceMs: 3_000 });
    const grandchild = Number(await waitForFile(pidFile));
    const abortedAt = performance.now();
    controller.abort();
    const error = await failure(running);
    expect(error.message).toMatch(/its process group got SIGTERM$/);
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    expect(processRuns(grandchild)).toBe(false);
  });

  it('does not start a program when the step is already stopped', async () => {
    const pidFile = join(scratch, 'never.pid');
    const error = await failure(run({ argv: [join(FIXTURES, 'spawn-grandchild.sh'), pidFile] }, { signal: AbortSignal.abort() }));
    expect(error.message).toContain('was not started');
    expect(existsSync(pidFile)).toBe(false);
  });
});

describe('command: environment and working folder', () => {
  it('passes only PATH, HOME, LANG, TZ and the step env, not the daemon environment', async () => {
    process.env.PIPEWARDEN_TEST_DAEMON_SECRET = 'hunter2';
    try {
      const outputs = await run({ argv: [NODE, '-e', 'console.log(JSON.stringify(process.env))'], env: { LOAD_DATE: '2025-11-03' } });
      const env = JSON.parse(outputs.stdout_tail as string) as Record<string, string>;
      const inherited = ['PATH', 'HOME', 'LANG', 'TZ'].filter((name) => process.env[name] !== undefined);
      expect(Object.keys(env).sort()).toEqual([...inherited, 'LOAD_DATE'].sort());
      expect(env.LOAD_DATE).toBe('2025-11-03');
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      delete process.env.PIPEWARDEN_TEST_DAEMON_SECRET;
    }
  });

  it('runs in the runbooks folder, or a cwd resolved against it', async () => {
    mkdirSync(join(scratch, 'loaders'), { recursive: true });
    const printCwd = [NODE, '-e', 'console.log(process.cwd())'];
    expect((await run({ argv: printCwd })).stdout_tail).toBe(scratch);
    expect((await run({ argv: printCwd, cwd: 'loaders' })).stdout_tail).toBe(join(scratch, 'loaders'));
    expect((await run({ argv: printCwd, cwd: tmpdir() })).stdout_tail).toBe(realpathSync(tmpdir()));
  });

  it('says so when the working folder does not exist', async () => {
    const error = await failure(run({ argv: ['echo'], cwd: 'no-such-folder' }));
    expect(error.message).toContain(`working folder "${join(scratch, 'no-such-folder')}" does not exist`);
  });
});

describe('command: declaration', () => {
  it('is idempotent only when the author says so, and never destructive', () => {
    const plain = commandAction.input.parse({ argv: ['echo'] });
    const declared = commandAction.input.parse({ argv: ['echo'], idempotent: true });
    expect(isIdempotent(commandAction, plain)).toBe(false);
    expect(isIdempotent(commandAction, declared)).toBe(true);
    expect(isDestructive(commandAction, declared)).toBe(false);
  });

  it('publishes a description for every input', () => {
    const schema = z.toJSONSchema(commandAction.input, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const [field, property] of Object.entries(schema.properties)) expect(property.description, field).toBeTruthy();
  });
});
