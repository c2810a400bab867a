// Which silence, if any, covers a finding: every glob list a silence gives must match (asset
// globs against the asset key, check globs against the check id); an empty list matches all.
// Silenced incidents still open, resolve and count in metrics; they just notify no one.

import { assetMatcher } from '../config/asset-globs.ts';
import type { Finding } from '../types.ts';

export interface Silence {
  id: string;
  assetGlobs: readonly string[];
  checkGlobs: readonly string[];
  startsAt: Date;
  endsAt: Date;
  reason: string;
  createdBy: string;
}

export function silenceFor(silences: readonly Silence[], finding: Pick<Finding, 'asset' | 'check'>): Silence | undefined {
  return silences.find(
    (silence) =>
      (silence.assetGlobs.length === 0 || assetMatcher(silence.assetGlobs)(finding.asset)) &&
      (silence.checkGlobs.length === 0 || assetMatcher(silence.checkGlobs)(finding.check)),
  );
}
