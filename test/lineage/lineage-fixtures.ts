// Fixtures written for the lineage tests (test/fixtures/lineage/), read as text so they go
// through the same manifest parser as a real dbt target.

import { readFileSync } from 'node:fs';

export function readLineageFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/lineage/${name}`, import.meta.url), 'utf8');
}
