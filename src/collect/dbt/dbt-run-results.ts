// run_results.json (v4–v6, dbt 1.12's extra fields, dbt Fusion's missing ones) → what each node
// of one dbt invocation did. Statuses are kept as written, lower-cased: success, error, skipped,
// pass, fail, warn, runtime error, no-op, partial success, and whatever a later dbt adds.

import { z } from 'zod';
import { parseArtifact } from './parse-artifact.ts';
import { optionalNumber, optionalRecord, optionalString, statusText } from './lenient-fields.ts';

export interface DbtNodeResult {
  uniqueId: string;
  status: string;
  executionTime: number | null;
  /** Failing rows of a test; null when not a test, and always null from dbt Fusion. */
  failures: number | null;
  message: string | null;
  hasCompiledCode: boolean;
  adapterResponse: Record<string, unknown>;
  /** The execute phase, when dbt timed it. */
  executeStartedAt: string | null;
  executeCompletedAt: string | null;
  relationName: string | null;
  threadId: string | null;
}

export interface DbtRunResults {
  version: number | null;
  generatedAt: string;
  invocationId: string | null;
  elapsedTime: number | null;
  results: DbtNodeResult[];
}

const timingSchema = z
  .array(z.looseObject({ name: optionalString, started_at: optionalString, completed_at: optionalString }))
  .nullish()
  .catch(null)
  .transform((timing) => timing ?? []);

const resultSchema = z.looseObject({
  unique_id: z.string(),
  status: statusText,
  execution_time: optionalNumber,
  failures: optionalNumber,
  message: optionalString,
  compiled_code: optionalString,
  adapter_response: optionalRecord,
  timing: timingSchema,
  relation_name: optionalString,
  thread_id: optionalString,
});

const runResultsSchema = z.looseObject({
  metadata: z.looseObject({ generated_at: z.string(), invocation_id: optionalString }),
  elapsed_time: optionalNumber,
  results: z.array(resultSchema),
});

export interface ParsedRunResults {
  runResults: DbtRunResults;
  warnings: string[];
}

export function parseRunResults(file: string, text: string): ParsedRunResults {
  const { value, version, warnings } = parseArtifact(file, text, 'run-results', runResultsSchema);
  const results = value.results.map((raw): DbtNodeResult => {
    const execute = raw.timing.find((phase) => phase.name === 'execute');
    return {
      uniqueId: raw.unique_id,
      status: raw.status,
      executionTime: raw.execution_time,
      failures: raw.failures,
      message: raw.message,
      hasCompiledCode: raw.compiled_code !== null && raw.compiled_code.trim() !== '',
      adapterResponse: raw.adapter_response,
      executeStartedAt: execute?.started_at ?? null,
      executeCompletedAt: execute?.completed_at ?? null,
      relationName: raw.relation_name,
      threadId: raw.thread_id,
    };
  });
  const runResults: DbtRunResults = {
    version,
    generatedAt: value.metadata.generated_at,
    invocationId: value.metadata.invocation_id,
    elapsedTime: value.elapsed_time,
    results,
  };
  return { runResults, warnings };
}
