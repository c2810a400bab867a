// The dbt artifact fixtures (see test/fixtures/dbt/NOTICE.md for where each came from).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DBT_FIXTURES = fileURLToPath(new URL('../../fixtures/dbt/', import.meta.url));

export function fixturePath(name: string): string {
  return `${DBT_FIXTURES}${name}`;
}

export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}
