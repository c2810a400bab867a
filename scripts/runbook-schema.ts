// Prints the JSON Schema of a runbook file generated from the zod schemas; with --write, writes it
// to runbooks/schema.json (what editors point `# yaml-language-server: $schema=…` at); with
// --check, exits 1 when that file is out of date. npm script: `npm run docs:runbooks`.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { renderRunbookJsonSchema } from '../src/runbooks/runbook-json-schema.ts';

const root = resolve(import.meta.dirname, '..');
const target = resolve(root, 'runbooks/schema.json');
const relative = 'runbooks/schema.json';
const mode = process.argv.includes('--write') ? 'write' : process.argv.includes('--check') ? 'check' : 'print';
const schema = renderRunbookJsonSchema();
const current = existsSync(target) ? await readFile(target, 'utf8') : undefined;

if (mode === 'print') {
  process.stdout.write(schema);
} else if (current === schema) {
  if (mode === 'write') process.stdout.write(`${relative} is up to date\n`);
} else if (mode === 'write') {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, schema);
  process.stdout.write(`updated ${relative}\n`);
} else {
  process.stderr.write(`${relative} is out of date; run npm run docs:runbooks\n`);
  process.exitCode = 1;
}
