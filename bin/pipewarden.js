#!/usr/bin/env node
// Runs the compiled CLI when a build exists (installed package, container); in a checkout it runs
// the TypeScript sources directly through Node's type stripping, so no build step stands between
// `npm ci` and `npm start`.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/index.js', import.meta.url);
const entry = existsSync(compiled) ? compiled : new URL('../src/cli/index.ts', import.meta.url);
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv);
