// Prints the configuration reference generated from the zod schema; with --write, puts it between
// the config-reference markers of every document that has them (README.md, docs/configuration.md);
// with --check, exits 1 when a document's block is out of date. npm script: `npm run docs:config`.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  currentReferenceBlock,
  REFERENCE_DOCUMENTS,
  REFERENCE_END,
  REFERENCE_START,
  renderConfigReference,
  replaceReferenceBlock,
} from '../src/config/config-reference.ts';

const root = resolve(import.meta.dirname, '..');
const mode = process.argv.includes('--write') ? 'write' : process.argv.includes('--check') ? 'check' : 'print';
const reference = renderConfigReference();

if (mode === 'print') {
  process.stdout.write(`${reference}\n`);
} else {
  let documents = 0;
  let stale = 0;
  for (const relative of REFERENCE_DOCUMENTS) {
    const file = resolve(root, relative);
    if (!existsSync(file)) continue;
    const text = await readFile(file, 'utf8');
    if (currentReferenceBlock(text) === undefined) continue;
    documents += 1;
    if (currentReferenceBlock(text) === reference) continue;
    stale += 1;
    if (mode === 'write') {
      await writeFile(file, replaceReferenceBlock(text, reference));
      process.stdout.write(`updated ${relative}\n`);
    } else {
      process.stderr.write(`${relative}: configuration reference is out of date; run npm run docs:config\n`);
    }
  }
  if (documents === 0) {
    process.stderr.write(`no document has ${REFERENCE_START} … ${REFERENCE_END}; add the markers to README.md\n`);
    process.exitCode = 1;
  } else if (mode === 'check' && stale > 0) {
    process.exitCode = 1;
  }
}
