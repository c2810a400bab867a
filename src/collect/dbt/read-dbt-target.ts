// Reads a dbt target folder: manifest.json, run_results.json, sources.json and catalog.json, each
// optional. A file that cannot be used becomes a problem naming it and what is wrong; the other
// files are still read. Each file's signature (mtime + size) lets a caller skip a re-read when
// nothing changed: pass the previous read back in and unchanged files are reused, not re-parsed.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../errors.ts';
import { parseCatalog, type DbtCatalog } from './dbt-catalog.ts';
import { parseManifest, type DbtManifest } from './dbt-manifest.ts';
import { parseRunResults, type DbtRunResults } from './dbt-run-results.ts';
import { parseSourceFreshness, type DbtSourceFreshness } from './dbt-source-freshness.ts';

export const DBT_ARTIFACT_FILES = ['manifest.json', 'run_results.json', 'sources.json', 'catalog.json'] as const;

export type DbtArtifactFile = (typeof DBT_ARTIFACT_FILES)[number];

/** Cheap change detection: a file rewritten by dbt changes its mtime (and mostly its size). */
export interface FileSignature {
  mtimeMs: number;
  size: number;
}

export interface DbtArtifactProblem {
  /** Full path of the file, or of the folder when the problem is the folder. */
  file: string;
  message: string;
}

export interface DbtTargetRead {
  folder: string;
  manifest: DbtManifest | null;
  runResults: DbtRunResults | null;
  sources: DbtSourceFreshness | null;
  catalog: DbtCatalog | null;
  /** Files that exist but could not be used, or a folder with no artifacts at all. */
  problems: DbtArtifactProblem[];
  /**
   * Files read with a caveat (e.g. a schema version newer than pipewarden knows). Said once per
   * change of the file: a file reused from the previous read is not warned about again.
   */
  warnings: string[];
  /** Per file; null when the file is absent. */
  signatures: Record<DbtArtifactFile, FileSignature | null>;
}

interface FileRead<T> {
  artifact: T | null;
  problem: DbtArtifactProblem | null;
  warnings: string[];
}

type Parse<T> = (file: string, text: string) => { artifact: T; warnings: string[] };

const parseManifestFile: Parse<DbtManifest> = (file, text) => {
  const { manifest, warnings } = parseManifest(file, text);
  return { artifact: manifest, warnings };
};
const parseRunResultsFile: Parse<DbtRunResults> = (file, text) => {
  const { runResults, warnings } = parseRunResults(file, text);
  return { artifact: runResults, warnings };
};
const parseSourcesFile: Parse<DbtSourceFreshness> = (file, text) => {
  const { sources, warnings } = parseSourceFreshness(file, text);
  return { artifact: sources, warnings };
};
const parseCatalogFile: Parse<DbtCatalog> = (file, text) => {
  const { catalog, warnings } = parseCatalog(file, text);
  return { artifact: catalog, warnings };
};

export async function readDbtSignatures(folder: string): Promise<Record<DbtArtifactFile, FileSignature | null>> {
  const entries = await Promise.all(DBT_ARTIFACT_FILES.map(async (name) => [name, await signatureOf(join(folder, name))] as const));
  return Object.fromEntries(entries) as Record<DbtArtifactFile, FileSignature | null>;
}

export function signaturesEqual(a: FileSignature | null, b: FileSignature | null): boolean {
  return a === b || (a !== null && b !== null && a.mtimeMs === b.mtimeMs && a.size === b.size);
}

export async function readDbtTarget(folder: string, previous?: DbtTargetRead): Promise<DbtTargetRead> {
  const signatures = await readDbtSignatures(folder);
  const empty: DbtTargetRead = { folder, manifest: null, runResults: null, sources: null, catalog: null, problems: [], warnings: [], signatures };
  const folderProblem = await checkFolder(folder);
  if (folderProblem) return { ...empty, problems: [folderProblem] };
  const reuse = previous?.folder === folder ? previous : undefined;
  const read = <T>(name: DbtArtifactFile, parse: Parse<T>, earlier: T | null | undefined): Promise<FileRead<T>> =>
    readArtifact(join(folder, name), parse, signatures[name], reuse ? { artifact: earlier ?? null, signature: reuse.signatures[name] } : undefined);
  const [manifest, runResults, sources, catalog] = await Promise.all([
    read('manifest.json', parseManifestFile, reuse?.manifest),
    read('run_results.json', parseRunResultsFile, reuse?.runResults),
    read('sources.json', parseSourcesFile, reuse?.sources),
    read('catalog.json', parseCatalogFile, reuse?.catalog),
  ]);
  const files = [manifest, runResults, sources, catalog];
  const result: DbtTargetRead = {
    ...empty,
    manifest: manifest.artifact,
    runResults: runResults.artifact,
    sources: sources.artifact,
    catalog: catalog.artifact,
    problems: files.flatMap((file) => (file.problem ? [file.problem] : [])),
    warnings: files.flatMap((file) => file.warnings),
  };
  if (DBT_ARTIFACT_FILES.every((name) => signatures[name] === null)) {
    result.problems.push({
      file: folder,
      message:
        `${folder}: no dbt artifacts here (looked for ${DBT_ARTIFACT_FILES.join(', ')}); ` +
        'point the dbt target at the folder dbt writes to (usually <project>/target) and run dbt build or dbt source freshness',
    });
  }
  return result;
}

async function readArtifact<T>(
  path: string,
  parse: Parse<T>,
  signature: FileSignature | null,
  previous?: { artifact: T | null; signature: FileSignature | null },
): Promise<FileRead<T>> {
  if (signature === null) return { artifact: null, problem: null, warnings: [] };
  if (previous && previous.artifact !== null && signaturesEqual(previous.signature, signature)) {
    return { artifact: previous.artifact, problem: null, warnings: [] };
  }
  try {
    const { artifact, warnings } = parse(path, await readFile(path, 'utf8'));
    return { artifact, problem: null, warnings };
  } catch (error) {
    // DbtArtifactError messages already name the file and JSON path; an I/O error gets the file added.
    const message = errorMessage(error);
    return { artifact: null, problem: { file: path, message: message.startsWith(path) ? message : `${path}: ${message}` }, warnings: [] };
  }
}

async function checkFolder(folder: string): Promise<DbtArtifactProblem | null> {
  try {
    const info = await stat(folder);
    return info.isDirectory() ? null : { file: folder, message: `${folder}: is a file, not a folder; the dbt target must be dbt's target folder` };
  } catch (error) {
    return { file: folder, message: `${folder}: cannot open the dbt target folder (${errorMessage(error)}); check the path in the dbt target setting` };
  }
}

async function signatureOf(path: string): Promise<FileSignature | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? { mtimeMs: info.mtimeMs, size: info.size } : null;
  } catch {
    return null;
  }
}
