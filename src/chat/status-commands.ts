// `/pipewarden status [ASSET|GLOB]` and `/pipewarden expected ID`: what the checks of some assets
// say now, and "this finding was expected" from Slack (its bucket leaves the baseline, as with
// the CLI's mark). Both read or write the state database, so they answer through `response_url`.

import { noteOnIncident } from '../incidents/incident-notes.ts';
import { markFindingExpected } from '../collect/mark-expected.ts';
import { PipewardenError } from '../errors.ts';
import { selectIncident } from '../store/incident-records.ts';
import { selectFindingBehindIncident, selectLatestFindingsForAssets, type LatestFindingRow } from '../store/latest-findings.ts';
import { withTransaction } from '../store/transaction.ts';
import type { SlashCommandContext, SlashCommandPlan } from './slash-command.ts';

const ASSETS_SHOWN = 15;
const STATUS_ORDER = ['fail', 'error', 'warn', 'ok'] as const;
const ICONS: Record<LatestFindingRow['status'], string> = { fail: ':red_circle:', error: ':warning:', warn: ':large_yellow_circle:', ok: ':white_check_mark:' };

function reply(text: string): SlashCommandPlan {
  return { kind: 'reply', text };
}

/** The worst status first, then by asset name: what needs looking at leads. */
function worst(findings: readonly LatestFindingRow[]): LatestFindingRow['status'] {
  return STATUS_ORDER.find((status) => findings.some((finding) => finding.status === status)) ?? 'ok';
}

function assetLines(asset: string, findings: readonly LatestFindingRow[]): string[] {
  const status = worst(findings);
  const counts = STATUS_ORDER.filter((s) => findings.some((finding) => finding.status === s)).map((s) => `${findings.filter((finding) => finding.status === s).length} ${s}`);
  const failing = findings.filter((finding) => finding.status !== 'ok').map((finding) => `    • \`${finding.check_id}\` ${finding.status}: ${finding.message}`);
  return [`${ICONS[status]} *${asset}* — ${counts.join(', ')}`, ...failing];
}

export function planStatus(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  if (args.length > 1) return reply(`\`status\` takes one asset or glob. Usage: \`${context.command} status [ASSET|GLOB]\``);
  const glob = args[0] ?? '*';
  return {
    kind: 'work',
    run: async () => {
      const findings = await selectLatestFindingsForAssets(context.pool, glob);
      if (findings.length === 0) return `No checks have run on assets matching \`${glob}\`. \`${context.command} status\` shows every asset.`;
      const byAsset = new Map<string, LatestFindingRow[]>();
      for (const finding of findings) byAsset.set(finding.asset, [...(byAsset.get(finding.asset) ?? []), finding]);
      const assets = [...byAsset.entries()].sort(([a, left], [b, right]) => STATUS_ORDER.indexOf(worst(left)) - STATUS_ORDER.indexOf(worst(right)) || a.localeCompare(b));
      const shown = assets.slice(0, ASSETS_SHOWN).flatMap(([asset, checks]) => assetLines(asset, checks));
      const more = assets.length > ASSETS_SHOWN ? [`…and ${assets.length - ASSETS_SHOWN} more assets; narrow with \`${context.command} status GLOB\`.`] : [];
      return [...shown, ...more].join('\n');
    },
  };
}

export function planExpected(args: readonly string[], context: SlashCommandContext): SlashCommandPlan {
  const match = args.length === 1 ? /^#?(\d{1,18})$/.exec(args[0] as string) : null;
  if (match === null) return reply(`\`expected\` needs one incident id. Usage: \`${context.command} expected ID\``);
  const id = match[1] as string;
  return {
    kind: 'work',
    run: async () => {
      const incident = await selectIncident(context.pool, id);
      if (incident === undefined) return `No incident #${id}. \`${context.command} incidents\` lists the active ones.`;
      const finding = await selectFindingBehindIncident(context.pool, incident.check_id, incident.last_finding.bucket);
      if (finding === undefined) return `Incident #${id} has no stored finding to mark (retention may have removed it).`;
      try {
        const mark = await markFindingExpected(context.pool, Number(finding.id), context.userId, context.now());
        const note = { type: 'marked_expected' as const, by: context.userId, source: 'slack', check: mark.check, bucket: mark.bucket.toISOString() };
        await withTransaction(context.pool, (client) => noteOnIncident(client, context.config, incident, note, { finding: finding.id, bucket: note.bucket }, context.now()));
        return `Marked expected by <@${context.userId}>: the ${mark.bucket.toISOString()} bucket of \`${mark.check}\` leaves its baseline.`;
      } catch (error) {
        if (error instanceof PipewardenError && error.code === 'finding_without_bucket') return `Incident #${id} is about \`${incident.check_id}\`, which has no time bucket to leave out of a baseline: only volume and distribution findings can be marked expected.`;
        throw error;
      }
    },
  };
}
