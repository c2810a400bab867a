// sources.json (v3, from `dbt source freshness`) → how old each source's newest row was and what
// dbt made of it. dbt Fusion writes the status capitalised (`Error`); it is lower-cased here.

import { z } from 'zod';
import { parseArtifact } from './parse-artifact.ts';
import { freshnessCriteria, optionalNumber, optionalString, statusText, type FreshnessCriteria } from './lenient-fields.ts';

export interface DbtSourceFreshnessResult {
  uniqueId: string;
  /** pass, warn, error or runtime error. */
  status: string;
  maxLoadedAt: string | null;
  snapshottedAt: string | null;
  maxLoadedAtTimeAgoInS: number | null;
  criteria: FreshnessCriteria | null;
  /** Why dbt could not measure, for runtime errors. */
  error: string | null;
}

export interface DbtSourceFreshness {
  version: number | null;
  generatedAt: string;
  results: DbtSourceFreshnessResult[];
}

const resultSchema = z.looseObject({
  unique_id: z.string(),
  status: statusText,
  max_loaded_at: optionalString,
  snapshotted_at: optionalString,
  max_loaded_at_time_ago_in_s: optionalNumber,
  criteria: freshnessCriteria,
  error: optionalString,
  message: optionalString,
});

const sourcesSchema = z.looseObject({
  metadata: z.looseObject({ generated_at: z.string() }),
  results: z.array(resultSchema),
});

export interface ParsedSourceFreshness {
  sources: DbtSourceFreshness;
  warnings: string[];
}

export function parseSourceFreshness(file: string, text: string): ParsedSourceFreshness {
  const { value, version, warnings } = parseArtifact(file, text, 'sources', sourcesSchema);
  const results = value.results.map(
    (raw): DbtSourceFreshnessResult => ({
      uniqueId: raw.unique_id,
      status: raw.status,
      maxLoadedAt: raw.max_loaded_at,
      snapshottedAt: raw.snapshotted_at,
      maxLoadedAtTimeAgoInS: raw.max_loaded_at_time_ago_in_s,
      criteria: raw.criteria,
      error: raw.error ?? raw.message,
    }),
  );
  return { sources: { version, generatedAt: value.metadata.generated_at, results }, warnings };
}
