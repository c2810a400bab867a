// `pipewarden silences [list|add|cancel ID]`: keep notifications quiet for matching checks while
// someone works on them. Incidents still open, resolve and count in metrics; the timeline says
// which silence kept each one quiet. Recurring windows belong in `incidents.maintenance`.

import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import type { Silence } from '../incidents/silences.ts';
import { cancelSilence, insertSilence, selectSilences } from '../store/silences.ts';
import { withStateDatabase } from './cli-state.ts';
import { type CliCommand, type CliIo, type GlobalOptions, writeJson, writeLine } from './cli-io.ts';

interface ListOptions extends GlobalOptions {
  all?: boolean;
}

interface AddOptions extends GlobalOptions {
  asset: string[];
  check: string[];
  for: string;
  reason: string;
  by?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const silencesCommand: CliCommand = {
  register(program, io, finish) {
    const silences = program.command('silences').description('List, add or cancel silences');
    silences
      .command('list', { isDefault: true })
      .description('Silences in force or still to come, newest first')
      .option('--all', 'include expired and cancelled ones')
      .option('--json', 'print silences as JSON')
      .action(async (_options: unknown, command: Command) => finish(await runList(command.optsWithGlobals<ListOptions>(), io)));
    silences
      .command('add')
      .description('Silence matching checks for a while (at least one --asset or --check)')
      .option('--asset <glob>', 'asset glob, e.g. "analytics.raw.*" (repeatable)', collect, [])
      .option('--check <glob>', 'check id glob, e.g. "volume:*" (repeatable)', collect, [])
      .requiredOption('--for <duration>', 'how long, e.g. 2h')
      .requiredOption('--reason <text>', 'why; shown in the timeline of every incident it keeps quiet')
      .option('--by <name>', 'who (default: your user name)')
      .option('--json', 'print the silence as JSON')
      .action(async (_options: unknown, command: Command) => finish(await runAdd(command.optsWithGlobals<AddOptions>(), io)));
    silences
      .command('cancel <id>')
      .description('End a silence now')
      .action(async (id: string, _options: unknown, command: Command) => finish(await runCancel(id, command.optsWithGlobals<GlobalOptions>(), io)));
  },
};

async function runList(options: ListOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    const silences = await selectSilences(state.pool, now(io), options.all === true);
    if (options.json) writeJson(io.stdout, { silences: silences.map(silenceJson) });
    else if (silences.length === 0) writeLine(io.stdout, 'no silences');
    else for (const silence of silences) writeLine(io.stdout, silenceLine(silence));
    return 0;
  });
}

async function runAdd(options: AddOptions, io: CliIo): Promise<number> {
  const forMs = parseDuration(options.for);
  const problem =
    forMs === undefined || forMs <= 0
      ? `--for ${JSON.stringify(options.for)} is not a duration; use e.g. 30m, 2h or 1d`
      : options.asset.length + options.check.length === 0
        ? 'say what to silence with at least one --asset or --check glob'
        : options.reason.trim() === ''
          ? '--reason must say why'
          : undefined;
  if (problem !== undefined) {
    writeLine(io.stderr, `error: ${problem}`);
    return 2;
  }
  return withStateDatabase(options, io, async (state) => {
    const startsAt = now(io);
    const silence = await insertSilence(
      state.pool,
      { assetGlobs: options.asset, checkGlobs: options.check, startsAt, endsAt: new Date(startsAt.getTime() + (forMs as number)), reason: options.reason.trim(), createdBy: options.by ?? userInfo().username },
      startsAt,
    );
    if (options.json) writeJson(io.stdout, { silence: silenceJson(silence) });
    else writeLine(io.stdout, silenceLine(silence));
    return 0;
  });
}

async function runCancel(id: string, options: GlobalOptions, io: CliIo): Promise<number> {
  return withStateDatabase(options, io, async (state) => {
    if (await cancelSilence(state.pool, id, now(io))) {
      writeLine(io.stdout, `silence #${id} cancelled`);
      return 0;
    }
    writeLine(io.stderr, `error [silence_not_found]: no active silence #${id}; \`pipewarden silences list\` shows them`);
    return 1;
  });
}

const now = (io: CliIo): Date => io.now?.() ?? new Date();

function silenceLine(silence: Silence): string {
  const matches = [...silence.assetGlobs.map((glob) => `asset ${glob}`), ...silence.checkGlobs.map((glob) => `check ${glob}`)].join(', ');
  return `#${silence.id} ${matches} until ${silence.endsAt.toISOString()} by ${silence.createdBy}: ${silence.reason}`;
}

function silenceJson(silence: Silence): Record<string, unknown> {
  return {
    id: silence.id,
    assets: silence.assetGlobs,
    checks: silence.checkGlobs,
    startsAt: silence.startsAt.toISOString(),
    endsAt: silence.endsAt.toISOString(),
    reason: silence.reason,
    createdBy: silence.createdBy,
  };
}
