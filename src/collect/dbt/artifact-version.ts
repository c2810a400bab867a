// Which dbt artifact a document is and which schema version wrote it, from
// `metadata.dbt_schema_version` (`https://schemas.getdbt.com/dbt/manifest/v12.json`). Versions
// pipewarden has not seen are read anyway (dbt adds fields far more often than it removes the
// few pipewarden uses) with a warning, so upgrading dbt never silences monitoring.

export type DbtArtifactKind = 'manifest' | 'run-results' | 'sources' | 'catalog';

/** The schema versions pipewarden was tested against, per artifact. */
export const KNOWN_VERSIONS: Readonly<Record<DbtArtifactKind, { min: number; max: number }>> = {
  manifest: { min: 7, max: 12 },
  'run-results': { min: 4, max: 6 },
  sources: { min: 3, max: 3 },
  catalog: { min: 1, max: 1 },
};

export interface ArtifactVersion {
  /** The kind named by the file itself, or null when it names none. */
  kind: DbtArtifactKind | null;
  version: number | null;
  /** Set when the version is missing or outside what pipewarden was tested against. */
  warning?: string;
}

const VERSION_URL = /\/dbt\/([a-z-]+)\/v(\d+)\.json$/;

export function detectArtifactVersion(file: string, schemaVersion: unknown, expected: DbtArtifactKind): ArtifactVersion {
  const match = typeof schemaVersion === 'string' ? VERSION_URL.exec(schemaVersion) : null;
  if (!match) {
    return {
      kind: null,
      version: null,
      warning: `${file}: $.metadata.dbt_schema_version is missing or not a dbt schema URL; read as a ${expected} of unknown version`,
    };
  }
  const named = match[1] ?? '';
  const kind = (named in KNOWN_VERSIONS ? named : null) as DbtArtifactKind | null;
  const version = Number(match[2]);
  if (kind === expected) {
    const { min, max } = KNOWN_VERSIONS[expected];
    if (version < min || version > max) {
      return {
        kind,
        version,
        warning: `${file}: ${expected} v${version} is outside the versions pipewarden knows (v${min}–v${max}); read leniently, only the fields pipewarden uses were checked`,
      };
    }
  }
  return { kind, version };
}
