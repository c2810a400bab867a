import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  currentReferenceBlock,
  REFERENCE_DOCUMENTS,
  REFERENCE_END,
  REFERENCE_START,
  renderConfigReference,
  replaceReferenceBlock,
  typeName,
} from '../../src/config/config-reference.ts';
import { configSchema, monitorSchema, warehouseSchema } from '../../src/config/schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function documentsWithMarkers(): { relative: string; text: string }[] {
  return REFERENCE_DOCUMENTS.filter((relative) => existsSync(resolve(ROOT, relative)))
    .map((relative) => ({ relative, text: readFileSync(resolve(ROOT, relative), 'utf8') }))
    .filter(({ text }) => currentReferenceBlock(text) !== undefined);
}

describe('configuration reference', () => {
  const reference = renderConfigReference();

  it('is up to date in every document that carries it (run `npm run docs:config` to fix)', () => {
    const documents = documentsWithMarkers();
    expect(documents.map(({ relative }) => relative).length).toBeGreaterThan(0);
    for (const { relative, text } of documents) {
      expect(currentReferenceBlock(text), `${relative} is out of date; run npm run docs:config`).toBe(reference);
    }
  });

  it('has a row for every key of every section', () => {
    for (const key of Object.keys(configSchema.shape)) expect(reference).toContain(`| \`${key}\` |`);
    for (const key of Object.keys(warehouseSchema.shape)) expect(reference).toContain(`| \`${key}\` |`);
    expect(reference).toContain('### `monitors[].freshness`');
    expect(reference).toContain('### `warehouses.<name>`');
    expect(reference).toContain('### `state.embedded`');
  });

  it('shows types, defaults and descriptions as a person writes them', () => {
    expect(reference).toContain('| `max_connections` | integer 1–20 | `2` | Pool size cap; this is someone\'s production database. |');
    expect(reference).toContain('| `statement_timeout` | duration | `30s` |');
    expect(reference).toContain('| `sweep` | cron | `*/5 * * * *` |');
    expect(reference).toContain('| `warehouses` | mapping of name → mapping | **required** |');
    expect(reference).toContain('| `slack` | mapping | — |');
  });

  it('names types from the schema', () => {
    expect(typeName(monitorSchema.shape.assets)).toBe('string or list of strings');
    expect(typeName(monitorSchema.shape.freshness)).toBe('true or mapping');
    expect(typeName(warehouseSchema.shape.type)).toBe('"postgres"');
    expect(typeName(z.enum(['a', 'b']))).toBe('one of: a, b');
    expect(typeName(z.number().min(0))).toBe('number ≥ 0');
    expect(typeName(z.url())).toBe('URL');
    expect(typeName(z.array(z.object({})))).toBe('list of mappings');
  });

  it('escapes table separators in descriptions', () => {
    const text = renderConfigReference(z.strictObject({ mode: z.string().describe('a | b') }));
    expect(text).toContain('| `mode` | string | **required** | a \\| b |');
  });
});

describe('reference markers', () => {
  const document = `# Title\n\n${REFERENCE_START}\nold\n${REFERENCE_END}\n\nafter\n`;

  it('replaces only the text between the markers, and reads it back', () => {
    const updated = replaceReferenceBlock(document, '### New');
    expect(updated).toBe(`# Title\n\n${REFERENCE_START}\n\n### New\n${REFERENCE_END}\n\nafter\n`);
    expect(currentReferenceBlock(updated)).toBe('### New');
    expect(replaceReferenceBlock(updated, '### New')).toBe(updated);
  });

  it('refuses a document without markers', () => {
    expect(() => replaceReferenceBlock('# nothing', 'x')).toThrow(/markers .* not found/);
    expect(currentReferenceBlock('# nothing')).toBeUndefined();
  });
});
