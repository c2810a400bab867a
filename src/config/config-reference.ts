// Generates the configuration reference (one Markdown table per section: key, type, default,
// description) from the zod schema, so the documentation is the schema and cannot drift from it.
// `node scripts/config-reference.ts --write` puts it between the markers in the docs; a test fails
// when the committed text differs from what this produces.

import { formatDuration, parseDuration } from './duration.ts';
import { configSchema, duration, scheduleSchema } from './schema.ts';
import type { AnySchema } from './schema-walk.ts';
import { defOf, descriptionOf, inputShapes, unwrapSchema } from './schema-walk.ts';

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** Documents, relative to the repository root, that carry the reference between the markers. */
export const REFERENCE_DOCUMENTS = ['README.md', 'docs/configuration.md'] as const;

// The schema keeps `cron` private; schedule.sweep is built from it, so it is found there.
const CRON = unwrapSchema(scheduleSchema.shape.sweep).schema;

interface Section {
  title: string;
  description: string;
  fields: Record<string, AnySchema>;
}

/** Loose views of zod classes whose bounds the reference prints. */
interface NumberBounds {
  minValue: number | null;
  maxValue: number | null;
  isInt: boolean;
}

function numberType(schema: AnySchema): string {
  const { minValue, maxValue, isInt } = schema as unknown as NumberBounds;
  const base = isInt ? 'integer' : 'number';
  const safe = (value: number | null): value is number => value !== null && Number.isFinite(value) && Math.abs(value) < Number.MAX_SAFE_INTEGER;
  if (safe(minValue) && safe(maxValue)) return `${base} ${minValue}–${maxValue}`;
  if (safe(minValue)) return `${base} ≥ ${minValue}`;
  return base;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** The type as a person writes it in YAML. */
export function typeName(schema: AnySchema): string {
  const inner = unwrapSchema(schema).schema;
  if (inner === duration) return 'duration';
  if (inner === CRON) return 'cron';
  const shapes = inputShapes(inner);
  if (shapes.length > 1) return shapes.map(typeName).join(' or ');
  const shape = shapes[0] as AnySchema;
  const def = defOf(shape);
  switch (def.type) {
    case 'string':
      return (def as { format?: string }).format === 'url' ? 'URL' : 'string';
    case 'number':
      return numberType(shape);
    case 'boolean':
      return 'boolean';
    case 'literal':
      return (def.values ?? []).map(literal).join(' or ');
    case 'enum':
      return `one of: ${Object.values(def.entries ?? {}).join(', ')}`;
    case 'array':
      return `list of ${pluralType(def.element as AnySchema)}`;
    case 'record':
      return `mapping of name → ${typeName(def.valueType as AnySchema)}`;
    case 'object':
      return 'mapping';
    default:
      return def.type;
  }
}

function pluralType(schema: AnySchema): string {
  const name = typeName(schema);
  return name === 'mapping' ? 'mappings' : name === 'string' ? 'strings' : name;
}

function formatDefault(value: unknown, schema: AnySchema): string {
  if (typeof value === 'string' && unwrapSchema(schema).schema === duration) {
    const ms = parseDuration(value);
    return `\`${ms === undefined ? value : formatDuration(ms)}\``;
  }
  if (typeof value === 'string') return `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

function defaultCell(schema: AnySchema): string {
  const unwrapped = unwrapSchema(schema);
  const objectShape = inputShapes(unwrapped.schema).some((shape) => defOf(shape).type === 'object');
  if (unwrapped.hasDefault && objectShape && typeof unwrapped.defaultValue === 'object' && !Array.isArray(unwrapped.defaultValue)) {
    return 'see its section';
  }
  if (unwrapped.hasDefault) return formatDefault(unwrapped.defaultValue, schema);
  return unwrapped.optional ? '—' : '**required**';
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * Sections for the objects a field contains: `state.embedded`, `warehouses.<name>`, `monitors[]`.
 * `description` is the field's own: an element or record value rarely has one of its own.
 */
function nestedSections(path: string, schema: AnySchema, description: string): Section[] {
  const sections: Section[] = [];
  for (const shape of inputShapes(schema)) {
    const def = defOf(shape);
    if (def.type === 'object' && def.shape) sections.push({ title: path, description, fields: def.shape });
    else if (def.type === 'record' && def.valueType) sections.push(...nestedSections(`${path}.<name>`, def.valueType, description));
    else if (def.type === 'array' && def.element) sections.push(...nestedSections(`${path}[]`, def.element, description));
  }
  return sections;
}

function renderTable(section: Section): { text: string; children: Section[] } {
  const rows = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  const children: Section[] = [];
  for (const [key, field] of Object.entries(section.fields)) {
    rows.push(`| \`${key}\` | ${escapeCell(typeName(field))} | ${defaultCell(field)} | ${escapeCell(descriptionOf(field))} |`);
    const prefix = section.title === '' ? key : `${section.title}.${key}`;
    children.push(...nestedSections(prefix, field, descriptionOf(field)));
  }
  const heading = section.title === '' ? '### Top level' : `### \`${section.title}\``;
  const intro = section.description ? `\n\n${section.description}` : '';
  return { text: `${heading}${intro}\n\n${rows.join('\n')}\n`, children };
}

/** The whole reference, sections in the order a reader meets them in the file. */
export function renderConfigReference(schema: AnySchema = configSchema): string {
  const fields = defOf(unwrapSchema(schema).schema).shape ?? {};
  const queue: Section[] = [{ title: '', description: 'Keys of pipewarden.yaml itself.', fields }];
  const parts: string[] = [];
  while (queue.length > 0) {
    const { text, children } = renderTable(queue.shift() as Section);
    parts.push(text);
    queue.unshift(...children);
  }
  return parts.join('\n');
}

/** `document` with the text between the markers replaced by `block`; throws when markers are missing. */
export function replaceReferenceBlock(document: string, block: string): string {
  const start = document.indexOf(REFERENCE_START);
  const end = document.indexOf(REFERENCE_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`markers ${REFERENCE_START} and ${REFERENCE_END} not found; add them where the reference belongs`);
  }
  return `${document.slice(0, start + REFERENCE_START.length)}\n\n${block}\n${document.slice(end)}`;
}

/** The text currently between the markers, or undefined when the markers are missing. */
export function currentReferenceBlock(document: string): string | undefined {
  const start = document.indexOf(REFERENCE_START);
  const end = document.indexOf(REFERENCE_END);
  if (start === -1 || end === -1 || end < start) return undefined;
  return document.slice(start + REFERENCE_START.length, end).replace(/^\n\n/, '').replace(/\n$/, '');
}
