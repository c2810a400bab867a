// Runs one program for the `command` and `dbt` actions, so both stop, cap output and fail the
// same way. Hand-written on node:child_process rather than a library (execa and the like):
// what matters here is exactly how the process group is signalled and how little output is
// kept, and that is less code than adapting a library's defaults.
//
// - Never a shell: argv elements reach the program as they are, so a bound value stays one
//   argument whatever quotes, `$(…)` or `;` it holds.
// - The program leads its own process group, so stopping it also stops what it started.
// - Only the last lines of each stream are kept: memory stays bounded however much it prints.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';
import { readEnvironment } from '../../config/environment.ts';
import type { Environment } from '../../config/environment.ts';
import { errorMessage } from '../../errors.ts';
import { StepFailedError } from '../action.ts';

/** How long a stopped program gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** After the program exits, how long to wait for children still holding its stdout/stderr. */
export const STDIO_DRAIN_MS = 1_000;
/** A longer line is cut: a program printing megabytes without a newline must not fill memory. */
export const MAX_LINE_CHARS = 4_096;
/** What a program inherits from the daemon: enough to run, none of the daemon's secrets. */
export const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

export interface ProcessRunOptions {
  /** The program as spawn takes it: a name looked up on PATH, or a path. */
  program: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  outputLines: number;
  signal: AbortSignal;
  killGraceMs?: number;
  /** Added to the "could not start" message, e.g. where relative paths are resolved from. */
  notFoundHint?: string;
}

/** What a finished program leaves behind; also the step's outputs. */
export interface ProcessOutputs {
  exit_code: number | null;
  signal: string | null;
  stdout_tail: string;
  stderr_tail: string;
  duration_ms: number;
  [key: string]: unknown;
}

export interface ProcessResult {
  outputs: ProcessOutputs;
  /** Set when the abort signal stopped it (step timeout, run deadline, shutdown). */
  stopped?: {
    reason: string;
    /** Still running after the grace, so the group got SIGKILL. */
    killed: boolean;
    graceMs: number;
  };
}

/** Keeps the last `limit` lines of a stream, each cut at MAX_LINE_CHARS. */
export class OutputTail {
  private readonly lines: string[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private partialCut = false;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  write(chunk: Buffer): void {
    const pieces = this.decoder.write(chunk).split('\n');
    const last = pieces.pop() as string;
    if (pieces.length > 0) {
      this.push(this.partial + (pieces.shift() as string));
      this.partial = '';
      this.partialCut = false;
      // Only the last `limit` complete lines of a chunk can survive; skip the rest unread.
      for (const line of pieces.slice(-this.limit)) this.push(line);
    }
    this.appendPartial(last);
  }

  /** Characters held now: stays under about `limit` × MAX_LINE_CHARS whatever was written. */
  heldChars(): number {
    return this.lines.reduce((sum, line) => sum + line.length, this.partial.length);
  }

  text(): string {
    if (this.limit === 0) return '';
    const rest = this.partial + this.decoder.end();
    const lines = rest === '' ? this.lines : [...this.lines, this.cut(rest)].slice(-this.limit);
    return lines.join('\n');
  }

  private appendPartial(text: string): void {
    if (this.partialCut) return;
    this.partial += text;
    if (this.partial.length > MAX_LINE_CHARS) {
      this.partial = this.cut(this.partial);
      this.partialCut = true;
    }
  }

  private push(line: string): void {
    if (this.limit === 0) return;
    this.lines.push(this.cut(line));
    if (this.lines.length > this.limit) this.lines.shift();
  }

  private cut(line: string): string {
    return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line cut]` : line;
  }
}

/** PATH, HOME, LANG and TZ from the daemon's environment, then `extra` on top. */
export function minimalEnvironment(extra: Record<string, string>, from: Environment = readEnvironment()): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Whether any member of the group still runs. Where /proc exists, zombies do not count: an
 * orphan that exited stays a zombie until init reaps it, and some container inits never do.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return liveMembersInProc(pgid) ?? true;
}

function liveMembersInProc(pgid: number): boolean | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      return false; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so split after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(pgrp) === pgid && state !== 'Z';
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM to the whole group, SIGKILL to whatever is left after the grace; true when SIGKILL was needed. */
async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (groupAlive(pgid) && performance.now() < deadline) await delay(Math.min(100, graceMs));
  if (!groupAlive(pgid)) return false;
  signalGroup(pgid, 'SIGKILL');
  return true;
}

function startFailure(error: NodeJS.ErrnoException, options: ProcessRunOptions): StepFailedError {
  const { program } = options;
  const hint = options.notFoundHint ? ` ${options.notFoundHint}` : '';
  const outputs = { exit_code: null, signal: null, stdout_tail: '', stderr_tail: '', duration_ms: 0 };
  if (error.code === 'ENOENT') {
    const where = !program.includes('/')
      ? `"${program}" was not found on PATH (${options.env.PATH ?? 'PATH is not set'})`
      : existsSync(program)
        ? `the interpreter its "#!" line names was not found (on the program's PATH: ${options.env.PATH ?? 'not set'})`
        : `there is no file "${program}"`;
    return new StepFailedError(`could not start "${program}": ${where}.${hint}`, outputs, { cause: error });
  }
  if (error.code === 'EACCES') {
    return new StepFailedError(`could not start "${program}": permission denied (is it executable? chmod +x it).${hint}`, outputs, { cause: error });
  }
  return new StepFailedError(`could not start "${program}": ${errorMessage(error)}`, outputs, { cause: error });
}

async function checkCwd(options: ProcessRunOptions): Promise<void> {
  // spawn reports a missing cwd as ENOENT of the program, which would blame the wrong thing.
  const info = await stat(options.cwd).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new StepFailedError(`could not start "${options.program}": its working folder "${options.cwd}" does not exist or is not a folder`);
  }
}

function spawnGroupLeader(options: ProcessRunOptions): ChildProcess {
  try {
    return spawn(options.program, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    // Synchronous failures are bad arguments, e.g. a NUL byte in an argv element.
    throw new StepFailedError(`could not start "${options.program}": ${errorMessage(error)}`, {}, { cause: error });
  }
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  return typeof reason === 'string' ? reason : 'step timeout, run deadline or shutdown';
}

/** Resolves on 'close'; a child that outlives the program and keeps its pipes open is cut off after STDIO_DRAIN_MS. */
function waitForClose(child: ChildProcess, options: ProcessRunOptions): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    let drain: NodeJS.Timeout | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) reject(startFailure(error, options));
    });
    child.once('exit', () => {
      drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, STDIO_DRAIN_MS);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(drain);
      resolve({ code, signal });
    });
  });
}

/** Waits for the program; rejects only when it cannot start (StepFailedError). */
export async function runProcess(options: ProcessRunOptions): Promise<ProcessResult> {
  if (options.signal.aborted) throw new StepFailedError(`"${options.program}" was not started: the step was already stopped (${abortReason(options.signal)})`);
  await checkCwd(options);
  const started = performance.now();
  const child = spawnGroupLeader(options);
  const stdout = new OutputTail(options.outputLines);
  const stderr = new OutputTail(options.outputLines);
  child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));

  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;
  let stopping: Promise<boolean> | undefined;
  const onAbort = (): void => {
    if (child.pid !== undefined) stopping ??= stopGroup(child.pid, graceMs);
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) onAbort(); // aborted while checking the cwd
  try {
    const { code, signal } = await waitForClose(child, options);
    // Stopping covers the whole group: wait until what the program started is gone too.
    const killed = stopping ? await stopping : undefined;
    const outputs = { exit_code: code, signal, stdout_tail: stdout.text(), stderr_tail: stderr.text(), duration_ms: Math.round(performance.now() - started) };
    if (killed === undefined) return { outputs };
    return { outputs, stopped: { reason: abortReason(options.signal), killed, graceMs } };
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}

/** Throws a StepFailedError carrying the outputs unless the program exited with a success code. */
export function checkExit(label: string, result: ProcessResult, successCodes: readonly number[]): ProcessOutputs {
  const { outputs, stopped } = result;
  if (stopped) {
    const how = stopped.killed ? `SIGTERM, then SIGKILL after ${stopped.graceMs} ms` : 'SIGTERM';
    throw new StepFailedError(`${label} was stopped (${stopped.reason}): its process group got ${how}`, outputs);
  }
  if (outputs.signal !== null) throw new StepFailedError(`${label} was killed by ${outputs.signal}${lastLine(outputs)}`, outputs);
  if (outputs.exit_code !== null && successCodes.includes(outputs.exit_code)) return outputs;
  const expected = successCodes.length === 1 ? `${successCodes[0]}` : `one of ${successCodes.join(', ')}`;
  throw new StepFailedError(`${label} exited with code ${outputs.exit_code} (success is ${expected})${lastLine(outputs)}`, outputs);
}

function lastLine(outputs: ProcessOutputs): string {
  const line = (outputs.stderr_tail || outputs.stdout_tail).trimEnd().split('\n').at(-1)?.trim();
  return line ? `; last output: ${line.slice(0, 300)}` : '';
}
