// The running version, read from package.json at startup. Read from disk rather than imported:
// package.json sits outside the build's rootDir, and the relative path is the same from src/ (run
// through type stripping) and from dist/ (the compiled package).

import { readFileSync } from 'node:fs';

function readVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed = JSON.parse(text) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}

export const PIPEWARDEN_VERSION: string = readVersion();
