// `pipewarden check`: one sweep and one profile, printed, exit 1 when any finding fails or could not be measured,
// so it works as a circuit breaker in CI or before a deploy. `--json` prints the stable contract
// from docs/architecture.md: { findings: [...], summary: { ok, warn, fail, error } }.

import type { Command } from 'commander';
import { runProfile } from '../collect/profile.ts';
import { runSweep } from '../collect/sweep.ts';
import { assetMatcher } from '../config/asset-globs.ts';
import { summarizeFindings, type Finding, type FindingSummary } from '../types.ts';
import { openRuntime } from '../runtime.ts';
import { loadCliConfig, cliLogger } from './cli-config.ts';
import { type CliCommand, type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';

interface CheckOptions extends GlobalOptions {
  select?: string;
}

export const checkCommand: CliCommand = {
  register(program, io, finish) {
    program
      .command('check')
      .description('Run one sweep (and one read of the dbt, Airflow and SQLMesh sources) now and print the findings; exit 1 if any finding fails or errors')
      .option('-s, --select <glob>', 'only assets matching this glob, e.g. "analytics.raw.*"')
      .option('--json', 'print findings as JSON')
      .action(async (_options: unknown, command: Command) => {
        finish(await runCheck(command.optsWithGlobals<CheckOptions>(), io));
      });
  },
};

async function runCheck(options: CheckOptions, io: CliIo): Promise<number> {
  const { config } = await loadCliConfig(options, io);
  const logger = cliLogger(config, io);
  const runtime = await openRuntime({ config, logger });
  try {
    const signal = new AbortController().signal;
    const selection = options.select ? { select: options.select } : {};
    // dbt, Airflow and SQLMesh, when configured, are read first: a failed model fails the check as a
    // stale table does, and the manifests read give the monitors dbt derives for the sweep.
    const pipelines = (await runtime.pipelines?.collect(signal))?.findings ?? [];
    const context = await runtime.loadSweepContext();
    const result = await runSweep(context, signal, selection);
    // Volume and distribution come from table profiles, measured right after the sweep.
    const profile = await runProfile(context, signal, selection);
    const selects = options.select === undefined ? () => true : assetMatcher([options.select]);
    const selected = pipelines.filter((finding) => selects(finding.asset));
    const findings = firstPerCheck([...profile.findings, ...result.findings, ...selected]);
    const summary = summarizeFindings(findings);
    // The routing owner stays out: `check --json`'s finding fields are a contract (docs/architecture.md).
    if (options.json) writeJson(io.stdout, { findings: findings.map(({ owner: _owner, ...finding }) => finding), summary });
    else printHuman(io, findings, summary, result.tables);
    return summary.fail + summary.error > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

/** Both jobs report a monitor they cannot measure; the profile's word on its own kinds wins. */
function firstPerCheck(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const finding of findings) if (!seen.has(finding.check)) seen.set(finding.check, finding);
  return [...seen.values()];
}

const STATUS_LABEL: Record<Finding['status'], string> = { ok: 'ok   ', warn: 'WARN ', fail: 'FAIL ', error: 'ERROR' };

function printHuman(io: CliIo, findings: readonly Finding[], summary: FindingSummary, tables: number): void {
  const order: Finding['status'][] = ['fail', 'error', 'warn', 'ok'];
  const sorted = [...findings].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || a.check.localeCompare(b.check));
  for (const finding of sorted) writeLine(io.stdout, `${STATUS_LABEL[finding.status]}  ${finding.kind.padEnd(12)} ${finding.message}`);
  if (findings.length === 0) writeLine(io.stdout, 'no checks configured for the selected assets');
  writeLine(io.stdout, `${tables} tables swept · ${summary.ok} ok · ${summary.warn} warn · ${summary.fail} fail · ${summary.error} error`);
}
