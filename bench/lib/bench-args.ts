// Command-line flags of the benchmarks, parsed with node:util so `--help` and typos behave the
// same everywhere. Numbers are validated here so a benchmark never runs with NaN.

import { parseArgs } from 'node:util';

export interface FlagSpec {
  /** Default value, shown in --help. */
  default: number | string;
  description: string;
}

export function parseFlags<K extends string>(name: string, specs: Record<K, FlagSpec>): Record<K, string> {
  const options = Object.fromEntries(Object.keys(specs).map((key) => [key, { type: 'string' as const }]));
  const { values } = parseArgs({ options: { ...options, help: { type: 'boolean' } }, allowPositionals: false });
  if (values.help) {
    console.log(`node bench/${name}.ts [flags]\n`);
    for (const [key, spec] of Object.entries(specs) as [K, FlagSpec][]) console.log(`  --${key}  ${spec.description} (default ${spec.default})`);
    process.exit(0);
  }
  const result = {} as Record<K, string>;
  for (const key of Object.keys(specs) as K[]) {
    const given = (values as Record<string, unknown>)[key];
    result[key] = typeof given === 'string' ? given : String(specs[key].default);
  }
  return result;
}

/** A positive integer flag value, or exit with a message saying which flag was wrong. */
export function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${flag} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return value;
}

/** A comma-separated list of positive integers, e.g. `--tables 100,10000`. */
export function integerList(flag: string, text: string): number[] {
  return text.split(',').map((part) => positiveInteger(flag, part.trim()));
}
