// JSON text → validated artifact, or a DbtArtifactError naming the file and the JSON path. The
// schemas passed in check only the fields pipewarden reads (loose objects), so a field dbt adds
// or drops that pipewarden does not use never refuses a file.

import type { z } from 'zod';
import { DbtArtifactError } from './dbt-artifact-error.ts';
import { detectArtifactVersion, type DbtArtifactKind } from './artifact-version.ts';

const MAX_ISSUES_SHOWN = 5;

export interface ParsedArtifact<T> {
  value: T;
  version: number | null;
  warnings: string[];
}

/** `$.results[3].unique_id` from zod's path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let text = '$';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) text += `.${part}`;
    else text += `[${JSON.stringify(String(part))}]`;
  }
  return text;
}

export function parseJsonText(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DbtArtifactError(
      file,
      '$',
      `not valid JSON (${reason}); dbt may still be writing it or it was truncated — re-run dbt or restore the file`,
      { cause: error },
    );
  }
}

export function parseArtifact<S extends z.ZodType>(
  file: string,
  text: string,
  kind: DbtArtifactKind,
  schema: S,
): ParsedArtifact<z.output<S>> {
  const document = parseJsonText(file, text);
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new DbtArtifactError(file, '$', `expected a JSON object (a dbt ${kind} artifact), found ${describe(document)}`);
  }
  const metadata = (document as { metadata?: unknown }).metadata;
  const schemaVersion = metadata && typeof metadata === 'object' ? (metadata as { dbt_schema_version?: unknown }).dbt_schema_version : undefined;
  const detected = detectArtifactVersion(file, schemaVersion, kind);
  if (detected.kind !== null && detected.kind !== kind) {
    throw new DbtArtifactError(
      file,
      '$.metadata.dbt_schema_version',
      `this is a dbt ${detected.kind} artifact, not a ${kind}; check which file is at this path`,
    );
  }
  const result = schema.safeParse(document);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0]!;
    const more = issues.slice(1, MAX_ISSUES_SHOWN).map((issue) => `${jsonPath(issue.path)}: ${issue.message}`);
    const rest = issues.length > MAX_ISSUES_SHOWN ? [`and ${issues.length - MAX_ISSUES_SHOWN} more`] : [];
    const also = more.length + rest.length > 0 ? ` (also ${[...more, ...rest].join('; ')})` : '';
    throw new DbtArtifactError(
      file,
      jsonPath(first.path),
      `${first.message}${also}; pipewarden needs this field to read a dbt ${kind} — regenerate the file with dbt or fix it by hand`,
    );
  }
  return { value: result.data, version: detected.version, warnings: detected.warning ? [detected.warning] : [] };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
