// Reads the numbered, forward-only migration files: `NNNN_name.sql`, applied in version order.
// Each carries a checksum so an edit to an already-applied file is noticed instead of silently
// leaving databases that ran the old text and databases that ran the new one.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateError } from '../errors.ts';

export interface MigrationFile {
  version: number;
  /** File name without version and extension, e.g. `initial`. */
  name: string;
  file: string;
  sql: string;
  /** sha256 of the file's text, hex. */
  checksum: string;
}

/** `migrations/` at the package root: two levels up from both src/store and dist/store. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function readMigrationFiles(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new StateError('state_migrations_missing', `Cannot read the migrations folder ${dir}; the pipewarden installation is incomplete.`, { cause: error });
  }
  const migrations: MigrationFile[] = [];
  for (const fileName of names.filter((name) => name.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(fileName);
    if (match === null) {
      throw new StateError('state_migration_invalid', `Migration file ${path.join(dir, fileName)} is not named NNNN_name.sql (four digits, lowercase name).`);
    }
    const file = path.join(dir, fileName);
    const sql = await readFile(file, 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2] ?? '', file, sql, checksum: checksum(sql) });
  }
  assertUniqueVersions(migrations);
  return migrations;
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

function assertUniqueVersions(migrations: readonly MigrationFile[]): void {
  for (let index = 1; index < migrations.length; index++) {
    const previous = migrations[index - 1];
    const current = migrations[index];
    if (previous !== undefined && current !== undefined && previous.version === current.version) {
      throw new StateError('state_migration_invalid', `Migrations ${previous.file} and ${current.file} share version ${current.version}; renumber one of them.`);
    }
  }
}
