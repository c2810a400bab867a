import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateProject } from '../../src/cli/validate.ts';
import type { CliIo } from '../../src/cli/cli-io.ts';
import { ConfigError, formatProblem } from '../../src/errors.ts';
import type { ConfigProblem } from '../../src/errors.ts';
import { bindValue } from '../../src/runbooks/bind-values.ts';
import { evaluateCondition } from '../../src/runbooks/cel.ts';
import { checkRunbookText, loadRunbooks, loadRunbooksOrThrow, runbookValidator } from '../../src/runbooks/load-runbooks.ts';
import { TEST_ACTIONS } from '../fixtures/runbooks/test-actions.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/runbooks');

function lines(problems: readonly ConfigProblem[]): string[] {
  return problems.map(formatProblem);
}

function check(text: string): string[] {
  return lines(checkRunbookText(text, 'r.yaml', TEST_ACTIONS).problems);
}

const STEPS = 'steps:\n  - { name: first, action: escalate }\n';

describe('loadRunbooks', () => {
  it('reports every mistake in every file of a folder in one run, each at its line and column', async () => {
    const { runbooks, problems } = await loadRunbooks('broken', TEST_ACTIONS, { cwd: FIXTURES });
    expect(lines(problems)).toEqual([
      'broken/bad-yaml.yaml:5:33: YAML syntax error: Missing , or : between flow sequence items (inside { } or [ ], put ${VAR} references in quotes: "${VAR}")',
      'broken/many-mistakes.yaml:5:9: match.when: "steps" cannot be read here; only finding, asset, incident, params can',
      'broken/many-mistakes.yaml:7:31: params.days.default: default "seven" is not a whole number, which type int needs',
      'broken/many-mistakes.yaml:12:34: steps[0].with.argv[2]: step "rerun": expected a string, got 7',
      'broken/many-mistakes.yaml:12:37: steps[0].with.argv[3]: step "rerun": params.dayz is not a parameter of this runbook; did you mean "days"?',
      'broken/many-mistakes.yaml:12:55: steps[0].with.argv[4]: step "rerun": steps.later runs after this step; a step can only read the steps before it',
      'broken/many-mistakes.yaml:13:36: steps[0].retry.backoff: step "rerun": expected a backoff like "30s..5m" (first delay..cap, cap at least the first delay), got "5m..30s"',
      'broken/many-mistakes.yaml:16:5: steps[1].retyr: step "verify": unknown key "retyr"; did you mean "retry"?',
      'broken/many-mistakes.yaml:17:9: steps[1].if: step "verify": not a valid CEL expression: Unexpected token: EOF',
      'broken/many-mistakes.yaml:18:11: steps[2].name: step "verify": steps[1] already has this name; step names must be unique, since later steps read outputs as ${steps.NAME…}',
      'broken/many-mistakes.yaml:19:13: steps[2].action: step "verify": unknown action "rerun"; expected one of: command, dbt, sql, http, backfill, publish, rollback, verify, wait, notify, approve, escalate, resolve, silence',
      'broken/many-mistakes.yaml:22:5: steps[3].with.channel: step "notify": missing required key "channel" (a string); add it',
      'broken/many-mistakes.yaml:22:19: steps[3].with.text: step "notify": unknown variable "findng"; did you mean "finding"?',
      'broken/many-mistakes.yaml:22:45: steps[3].with.chanel: step "notify": unknown key "chanel"; did you mean "channel"?',
      'broken/many-mistakes.yaml:24:13: steps[4].action: step "transform": action "dbt" is not available in this build; available: command, verify, escalate, notify, wait, backfill, sql',
      'broken/many-mistakes.yaml:27:11: steps[5].with: step "fix": statement: values go in params, never into the SQL text; write $1 and add params: [...]',
      'broken/same-name.yml:1:7: name: runbook "many-mistakes" is also defined in broken/many-mistakes.yaml; runbook names must be unique, rename one of them',
    ]);
    // same-name.yml is fine by itself, but two runbooks of one name cannot both be loaded.
    expect(runbooks).toEqual([]);
  });

  it('compiles valid runbooks, sorted by file, skipping files that are not YAML', async () => {
    const { runbooks, problems } = await loadRunbooks(join(FIXTURES, 'valid'), TEST_ACTIONS);
    expect(problems).toEqual([]);
    expect(runbooks.map((runbook) => runbook.definition.name)).toEqual(['backfill-orders', 'reload-stale-inventory']);
    const reload = runbooks[1];
    const file = join(FIXTURES, 'valid/reload-stale-inventory.yaml');
    expect(reload?.file).toBe(file);
    const text = await readFile(file, 'utf8');
    expect(reload?.source).toBe(text);
    expect(reload?.digest).toBe(createHash('sha256').update(text).digest('hex'));
    expect(reload?.steps.map((step) => step.location)).toEqual([
      { file, line: 12, column: 5 },
      { file, line: 18, column: 5 },
      { file, line: 21, column: 5 },
    ]);
    expect(reload?.definition.steps[0]?.retry?.backoff).toEqual({ initialMs: 30_000, maxMs: 300_000 });
  });

  it('compiles conditions and inputs so the executor only binds them', async () => {
    const [, reload] = (await loadRunbooks(join(FIXTURES, 'valid'), TEST_ACTIONS)).runbooks;
    const variables = {
      finding: { status: 'fail' },
      asset: { key: 'analytics.raw.inventory_eu', table: 'inventory_eu' },
      params: { days: 1, loader: './bin/load-inventory' },
      steps: { verify: { outcome: 'failed' }, rerun_loader: { attempts: 3 } },
    };
    expect(reload?.when && evaluateCondition(reload.when, variables)).toBe(true);
    expect(reload?.steps[0]?.condition).toBeUndefined();
    expect(reload?.steps[2]?.condition && evaluateCondition(reload.steps[2].condition, variables)).toBe(true);
    expect(bindValue(reload?.steps[0]?.inputs ?? { kind: 'constant', value: null }, variables).value).toEqual({
      argv: ['./bin/load-inventory', '--table', 'inventory_eu', '--days', 1],
    });
    expect(bindValue(reload?.steps[2]?.inputs ?? { kind: 'constant', value: null }, variables).value).toEqual({
      reason: 'reload tried 3 times; ${not a placeholder}',
    });
  });

  it('treats a missing folder as no runbooks, and a file in its place as a problem', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-runbooks-'));
    expect(await loadRunbooks('runbooks', TEST_ACTIONS, { cwd: directory })).toEqual({ runbooks: [], problems: [] });
    await writeFile(join(directory, 'runbooks'), 'not a folder');
    const { problems } = await loadRunbooks('runbooks', TEST_ACTIONS, { cwd: directory });
    expect(lines(problems)).toEqual(['runbooks:1:1: is a file, not a folder of runbooks; point runbooks.folder at a folder of *.yaml files']);
  });

  it('reads neither sub-folders nor schema.json', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-runbooks-'));
    await mkdir(join(directory, 'old.yaml'));
    await writeFile(join(directory, 'schema.json'), '{}');
    await writeFile(join(directory, 'page.yml'), `name: page\n${STEPS}`);
    const { runbooks, problems } = await loadRunbooks(directory, TEST_ACTIONS);
    expect(problems).toEqual([]);
    expect(runbooks.map((runbook) => runbook.definition.name)).toEqual(['page']);
  });

  it('throws one ConfigError with every problem for the daemon', async () => {
    const error = await loadRunbooksOrThrow('broken', TEST_ACTIONS, { cwd: FIXTURES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(17);
    expect(await loadRunbooksOrThrow('valid', TEST_ACTIONS, { cwd: FIXTURES })).toHaveLength(2);
  });
});

describe('checkRunbookText', () => {
  it('says a file is empty', () => {
    expect(check('# nothing yet\n')).toEqual(['r.yaml:1:1: runbook file is empty; a runbook needs at least a name and steps']);
  });

  it('accepts a placeholder where the action wants another type, not a constant of that other type', () => {
    const step = (concurrency: string) => `  - { name: b, action: backfill, with: { concurrency: ${concurrency}, step: { action: command } } }\n`;
    expect(check(`name: r\nparams: { n: { type: int, default: 2 } }\n${STEPS}${step('"${params.n}"')}`)).toEqual([]);
    expect(check(`name: r\n${STEPS}${step('"7"')}`)).toEqual([
      'r.yaml:4:55: steps[1].with.concurrency: step "b": expected a number, got "7"',
    ]);
  });

  it('reports a step reading itself, an unknown step and an unknown root', () => {
    expect(check(`name: r\n${STEPS}  - { name: b, action: escalate, if: "steps.b.ok || steps.frist.ok || stepz.x" }\n`)).toEqual([
      'r.yaml:4:38: steps[1].if: step "b": steps.b is this step\'s own output, which does not exist yet; a step can only read the steps before it',
      'r.yaml:4:38: steps[1].if: step "b": there is no step "frist" before this one; did you mean "first"?',
      'r.yaml:4:38: steps[1].if: step "b": unknown variable "stepz"; did you mean "steps"?',
    ]);
  });

  it('suggests the action meant by a misspelled one', () => {
    expect(check('name: r\nsteps:\n  - { name: a, action: comand }\n')).toEqual(['r.yaml:3:24: steps[0].action: step "a": unknown action "comand"; did you mean "command"?']);
  });

  it('explains that a step name with "-" reads as a subtraction in CEL', () => {
    const steps = 'steps:\n  - { name: re-load, action: escalate }\n  - { name: b, action: escalate, if: "steps.re-load.ok" }\n  - { name: c, action: escalate, if: "steps[\'re-load\'].ok" }\n';
    expect(check(`name: r\n${steps}`)).toEqual(['r.yaml:4:38: steps[1].if: step "b": steps.re-load reads as steps.re - load (in CEL "-" is minus); write steps["re-load"]']);
  });

  it('reports a placeholder that is not closed or not CEL, at the value', () => {
    expect(check(`name: r\nsteps:\n  - name: a\n    action: escalate\n    with: { reason: "\${finding.asset" }\n`)).toEqual([
      'r.yaml:5:21: steps[0].with.reason: step "a": "${" at character 1 has no closing "}"',
    ]);
    expect(check(`name: r\nsteps:\n  - name: a\n    action: escalate\n    with: { reason: "\${finding.}" }\n`)).toEqual([
      'r.yaml:5:21: steps[0].with.reason: step "a": not a valid CEL expression: Expected IDENTIFIER, got EOF',
    ]);
  });

  it('checks param defaults against every type', () => {
    const params = 'params:\n  a: { type: duration, default: soon }\n  b: { type: bool, default: "yes" }\n  c: { default: 3 }\n  d: { type: number, default: 1.5 }\n';
    expect(check(`name: r\n${params}${STEPS}`)).toEqual([
      'r.yaml:3:33: params.a.default: default "soon" is not a duration like "1h", which type duration needs',
      'r.yaml:4:29: params.b.default: default "yes" is not true or false, which type bool needs',
      'r.yaml:5:17: params.c.default: default 3 is not a string, which type string needs',
    ]);
  });
});

describe('runbookValidator', () => {
  async function validateWith(folder: string, actions = TEST_ACTIONS) {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-validate-'));
    await writeFile(join(directory, 'pipewarden.yaml'), `warehouses:\n  a: { type: postgres, url: "postgres://x" }\nrunbooks: { folder: ${folder} }\n`);
    const io = { stdout: process.stdout, stderr: process.stderr, env: {}, cwd: FIXTURES } as unknown as CliIo;
    return validateProject(join(directory, 'pipewarden.yaml'), io, [runbookValidator(actions)]);
  }

  it('counts runbooks in the summary', async () => {
    expect(await validateWith(join(FIXTURES, 'valid'))).toEqual({ valid: true, problems: [], summary: ['1 warehouse', '0 monitors', '2 runbooks'] });
  });

  it('names files relative to where validate runs, and reports actions this build does not have', async () => {
    const report = await validateWith(join(FIXTURES, 'valid'), new Map());
    expect(report.valid).toBe(false);
    expect(lines(report.problems)[0]).toBe('valid/backfill-orders.yml:9:13: steps[0].action: step "backfill": action "backfill" is not available in this build');
  });
});
