// `pipewarden runbook list` and `runbook run` up to the point of starting anything, through the
// real CLI on a real state database: what list says about each runbook, a dry run that binds
// every value (a hostile asset key verbatim, secrets hidden, later steps' outputs named) and
// executes nothing — no row in the state DB, no request to the HTTP service its step calls —,
// the --yes gate for a destructive runbook, and the errors for unknown runbooks and bad params.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startRecordingHttpServer, type RecordingHttpServer } from '../helpers/recording-http-server.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const NODE = process.execPath;
// Appends its arguments (after the log file) to the log as one JSON line, and prints them.
const LOG_ARGS = "const fs=require('fs');fs.appendFileSync(process.argv[1],JSON.stringify(process.argv.slice(2))+String.fromCharCode(10));process.stdout.write(process.argv.slice(2).join('|'))";
// Quotes, a command substitution, backticks and a semicolon: none of it may be interpreted.
const HOSTILE = `x"; rm -rf / $(touch /tmp/pw-dry-run) \`id\` 'y'`;
const HOSTILE_ASSET = `wh.raw.${HOSTILE}`;

let state: TestDatabase;
let server: RecordingHttpServer;
let dir: string;
let logFile: string;

const cli = (...args: string[]) => runCliCaptured(args, { env: { DATABASE_URL: state.url }, cwd: dir });

function runbooks(apiUrl: string): Record<string, unknown> {
  // The first call's base URL comes from `runbooks.vars`, as a deployment would set it.
  return {
    'echo-asset': {
      name: 'echo-asset',
      description: 'Reloads a raw table',
      match: { checks: ['freshness'], assets: ['wh.raw.*'], when: "finding.status == 'fail'" },
      params: { out: { type: 'string' }, days: { type: 'int', default: 3 } },
      steps: [
        { name: 'write', action: 'command', with: { argv: [NODE, '-e', LOG_ARGS, '${params.out}', '${asset.key}', '--days=${params.days}'] } },
        { name: 'report', action: 'command', if: 'steps.write.exit_code == 0', with: { argv: [NODE, '-e', LOG_ARGS, '${params.out}', '${steps.write.stdout_tail}'] } },
      ],
    },
    'call-api': {
      name: 'call-api',
      params: { really: { type: 'bool', default: false } },
      steps: [
        { name: 'clear', action: 'http', with: { method: 'POST', url: '${vars.api_url}/api/dags', path: ['${asset.table}', 'clear'], headers: { Authorization: 'Bearer ${secrets.api_token}' }, json: { only_failed: true } } },
        { name: 'look', action: 'http', if: 'params.really', with: { url: `${apiUrl}/api/health` } },
      ],
    },
    backfill: {
      name: 'backfill',
      params: { from: { type: 'string' }, to: { type: 'string' } },
      steps: [
        {
          name: 'days',
          action: 'backfill',
          with: { range: { from: '${params.from}', to: '${params.to}' }, step: { action: 'command', with: { argv: [NODE, '-e', 'process.exit(0)', '--day=${partition}', '${vars.api_url}'] } } },
        },
      ],
    },
    'by-hand': { name: 'by-hand', steps: [{ name: 'peek', action: 'http', with: { url: '${params.url}' } }], params: { url: { type: 'string', default: 'http://127.0.0.1:1/' } } },
  };
}

beforeAll(async () => {
  [state, server] = await Promise.all([createTestDatabase(), startRecordingHttpServer()]);
  dir = await mkdtemp(path.join(tmpdir(), 'pipewarden-cli-runbook-'));
  logFile = path.join(dir, 'args.log');
  await mkdir(path.join(dir, 'runbooks'));
  for (const [name, runbook] of Object.entries(runbooks(server.url))) await writeFile(path.join(dir, 'runbooks', `${name}.yaml`), stringify(runbook));
  const config = {
    warehouses: { wh: { type: 'postgres', url: 'postgres://127.0.0.1:1/warehouse' } },
    state: { url: '${DATABASE_URL}' },
    runbooks: { folder: './runbooks', secrets: { api_token: 'tok-s3cr3t' }, vars: { api_url: server.url } },
  };
  await writeFile(path.join(dir, 'pipewarden.yaml'), stringify(config));
});

afterAll(async () => {
  await Promise.all([state?.drop(), server?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function rowCounts(): Promise<{ runs: number; attempts: number }> {
  const { rows } = await state.pool().query<{ runs: number; attempts: number }>('SELECT (SELECT count(*)::int FROM pipewarden.runbook_runs) AS runs, (SELECT count(*)::int FROM pipewarden.runbook_step_attempts) AS attempts');
  return rows[0] as { runs: number; attempts: number };
}

describe('pipewarden runbook list', () => {
  it('says what each runbook matches, its params, its step count and whether it is destructive', async () => {
    const listed = await cli('runbook', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const text = listed.stdout;
    expect(text).toContain("echo-asset — Reloads a raw table\n  matches: checks freshness; assets wh.raw.*; when finding.status == 'fail'\n  params: out: string (required), days: int = 3\n  steps: 2, destructive: no\n");
    expect(text).toContain('call-api\n  matches: by hand only\n  params: really: bool = false\n  steps: 2, destructive: yes\n');
    // A GET is not destructive, but a URL bound only at run time cannot be judged: assume it is.
    expect(text).toContain('by-hand\n  matches: by hand only\n  params: url: string = http://127.0.0.1:1/\n  steps: 1, destructive: yes\n');
    const json = JSON.parse((await cli('runbook', 'list', '--json')).stdout) as { runbooks: Array<Record<string, unknown>> };
    expect(json.runbooks.find((runbook) => runbook.name === 'echo-asset')).toEqual({
      name: 'echo-asset',
      description: 'Reloads a raw table',
      file: path.join(dir, 'runbooks', 'echo-asset.yaml'),
      match: { checks: ['freshness'], assets: ['wh.raw.*'], when: "finding.status == 'fail'" },
      params: { out: { type: 'string', default: null, description: null }, days: { type: 'int', default: 3, description: null } },
      steps: 2,
      destructive: false,
    });
  });
});

describe('pipewarden runbook run --dry-run', () => {
  it('prints every input bound with the run values, the hostile asset key verbatim, and executes nothing', async () => {
    const dry = await cli('runbook', 'run', 'echo-asset', '--asset', HOSTILE_ASSET, '--param', `out=${logFile}`, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.split('\n');
    expect(lines).toContain(`dry run of runbook echo-asset for asset ${HOSTILE_ASSET}: nothing was executed`);
    expect(lines).toContain(`params: out=${logFile} days=3`);
    expect(lines).toContain('1. write (command) idempotent: no, destructive: no');
    expect(lines).toContain(`   with.argv[3] = ${logFile}`);
    expect(lines).toContain(`   with.argv[4] = ${HOSTILE_ASSET}`);
    expect(lines).toContain('   with.argv[5] = --days=3');
    expect(lines).toContain('   if steps.write.exit_code == 0 → decided when it runs');
    expect(lines).toContain('   with.argv[4] = (from steps.write when it runs)');
    expect(lines).toContain('destructive: no');
    expect(existsSync(logFile)).toBe(false);
    expect(existsSync('/tmp/pw-dry-run')).toBe(false);
    expect(await rowCounts()).toEqual({ runs: 0, attempts: 0 });
  });

  it('binds an http step without calling it: secrets hidden, conditions evaluated, judged destructive', async () => {
    server.respondWith([]);
    const dry = await cli('runbook', 'run', 'call-api', '--asset', HOSTILE_ASSET, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).not.toContain('tok-s3cr3t');
    const plan = JSON.parse(dry.stdout) as { destructive: boolean; incidentId: unknown; steps: Array<Record<string, unknown>> };
    expect(plan).toMatchObject({ dryRun: true, runbook: 'call-api', asset: HOSTILE_ASSET, params: { really: false }, incidentId: null, destructive: true });
    expect(plan.steps[0]).toEqual({
      name: 'clear',
      action: 'http',
      mayRun: true,
      inputs: { method: 'POST', url: `${server.url}/api/dags`, path: [HOSTILE, 'clear'], headers: { Authorization: '[secret]' }, json: { only_failed: true } },
      destructive: { value: true, certain: true },
      idempotent: { value: false, certain: true },
    });
    expect(plan.steps[1]).toMatchObject({ name: 'look', condition: { source: 'params.really', result: false }, mayRun: false, destructive: { value: false } });
    expect(server.requests).toEqual([]);
    expect(await rowCounts()).toEqual({ runs: 0, attempts: 0 });
  });
  it("shows a backfill's per-partition step bound as far as it can be, the partition named, without running it", async () => {
    const dry = await cli('runbook', 'run', 'backfill', '--asset', 'wh.raw.inventory', '--param', 'from=2025-11-03', '--param', 'to=2025-11-04', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { steps: Array<Record<string, unknown>> };
    expect(plan.steps[0]).toMatchObject({
      name: 'days',
      inputs: { range: { from: '2025-11-03', to: '2025-11-04' }, step: { action: 'command', with: { argv: [NODE, '-e', 'process.exit(0)', '(for each partition)', server.url] } } },
      destructive: { value: true, certain: true },
    });
    expect(plan.steps[0]).not.toHaveProperty('inputError');
    expect(await rowCounts()).toEqual({ runs: 0, attempts: 0 });
  });
});

describe('pipewarden runbook run', () => {
  it('refuses a destructive runbook without --yes, saying why and what to review, and starts nothing', async () => {
    server.respondWith([]);
    const refused = await cli('runbook', 'run', 'call-api', '--asset', 'wh.raw.inventory');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('runbook call-api is destructive (steps clear change data or state others rely on)');
    expect(refused.stderr).toContain('`pipewarden runbook run call-api --asset wh.raw.inventory --dry-run`, then pass --yes');
    expect(server.requests).toEqual([]);
    expect(await rowCounts()).toEqual({ runs: 0, attempts: 0 });
  });

  it('runs a destructive runbook with --yes: the call goes out once, with the value as one path segment', async () => {
    server.respondWith([{ status: 200, body: { cleared: 1 } }]);
    const ran = await cli('runbook', 'run', 'call-api', '--asset', HOSTILE_ASSET, '--yes');
    expect(ran.code, ran.stderr + ran.stdout).toBe(0);
    expect(ran.stdout).toMatch(/^run #\d+ of call-api started\nstep clear \(http\) attempt 1 succeeded, \d+ ms\nstep look \(http\) attempt 1 skipped, \d+ ms\nrun #\d+ succeeded: steps: 1 succeeded, 1 skipped\n$/);
    expect(server.requests.map((request) => [request.method, request.pathname, request.headers.authorization])).toEqual([['POST', `/api/dags/${encodeURIComponent(HOSTILE)}/clear`, 'Bearer tok-s3cr3t']]);
    expect(await rowCounts()).toEqual({ runs: 1, attempts: 2 });
  });

  it('names the runbooks when the one asked for does not exist', async () => {
    const unknown = await cli('runbook', 'run', 'nope', '--asset', 'wh.raw.inventory');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/error \[runbook_not_found\]: no runbook named "nope" in .*; the runbooks are: backfill, by-hand, call-api, echo-asset\n$/);
  });

  it('refuses bad params with what resolveParams says, before anything starts', async () => {
    const cases: Array<[string[], string]> = [
      [['--param', `out=${logFile}`, '--param', 'days=abc'], 'parameter "days" must be a whole number, got "abc"'],
      [['--param', `out=${logFile}`, '--param', 'weeks=2'], 'runbook echo-asset has no parameter "weeks"; it takes out, days'],
      [[], 'runbook echo-asset needs parameter "out" (string); pass --param out=VALUE'],
      [['--param', 'out'], '--param expects NAME=VALUE, got "out"'],
    ];
    for (const [params, message] of cases) {
      const outcome = await cli('runbook', 'run', 'echo-asset', '--asset', 'wh.raw.inventory', ...params);
      expect(outcome.code, outcome.stderr).toBe(2);
      expect(outcome.stderr).toContain(message);
    }
    expect(existsSync(logFile)).toBe(false);
  });
});
