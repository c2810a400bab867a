// The JSON Schema of a runbook file, for editors: with `# yaml-language-server: $schema=…` at the
// top of a runbook, VS Code and other yaml-language-server editors complete keys, `action` names
// and each action's `with` keys, and flag mistakes while typing. Generated from the same zod
// schemas the loader uses, so it cannot say something different; `npm run docs:runbooks` writes
// it to runbooks/schema.json and a test fails when that file is out of date.
//
// Draft-07 rather than 2020-12: it is what yaml-language-server handles best, and `if`/`then`
// (how each action gets its own `with`) is already in it.

import { z } from 'zod';
import { ACTIONS } from './actions/registry.ts';
import type { ActionRegistry } from './check-action-inputs.ts';
import { runbookSchema } from './runbook-schema.ts';

export type JsonSchema = Record<string, unknown>;

/** A `${…}` placeholder stands for any value; its type is only known once it is bound. */
const PLACEHOLDER: JsonSchema = { type: 'string', pattern: '\\$\\{', description: 'A `${…}` placeholder, bound when the step runs.' };

function toJsonSchema(schema: z.ZodType): JsonSchema {
  // Input side: what a person writes (a duration string), not what the loader makes of it (ms).
  return z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
}

/** Whether a placeholder string already passes: any string does, unless the schema constrains it. */
function acceptsPlaceholder(schema: JsonSchema): boolean {
  if (Object.keys(schema).every((key) => key === 'description' || key === 'default')) return true;
  return schema.type === 'string' && ['pattern', 'format', 'enum', 'const', 'maxLength'].every((key) => !(key in schema));
}

function lenientValue(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const lenient = allowPlaceholders(schema as JsonSchema);
  if (acceptsPlaceholder(lenient)) return lenient;
  const { description, default: fallback, ...rest } = lenient;
  // Description and default stay outside the anyOf, where editors show them.
  return { ...(description === undefined ? {} : { description }), ...(fallback === undefined ? {} : { default: fallback }), anyOf: [rest, PLACEHOLDER] };
}

function mapValues(fields: unknown, change: (value: unknown) => unknown): unknown {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return fields;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, change(value)]));
}

/**
 * The loader accepts a `${…}` string wherever an action's input goes (it checks the bound value
 * at run time); the editor schema does the same, so a valid runbook never shows as an error.
 */
export function allowPlaceholders(schema: JsonSchema): JsonSchema {
  const result: JsonSchema = { ...schema };
  if ('properties' in schema) result.properties = mapValues(schema.properties, lenientValue);
  if (typeof schema.additionalProperties === 'object') result.additionalProperties = lenientValue(schema.additionalProperties);
  if ('items' in schema) result.items = Array.isArray(schema.items) ? schema.items.map(lenientValue) : lenientValue(schema.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) result[key] = options.map((option: JsonSchema) => allowPlaceholders(option));
  }
  return result;
}

/** `if action is X then with is X's inputs`, one per action this build has. */
function actionInputRules(actions: ActionRegistry): JsonSchema[] {
  return [...actions.values()].map((action) => {
    const { $schema: _draft, ...inputs } = toJsonSchema(action.input);
    const required = Array.isArray(inputs.required) && inputs.required.length > 0;
    return {
      if: { properties: { action: { const: action.name } }, required: ['action'] },
      then: { properties: { with: allowPlaceholders(inputs) }, ...(required ? { required: ['with'] } : {}) },
    };
  });
}

/** The JSON Schema of one runbook file, with each available action's `with` spelled out. */
export function runbookJsonSchema(actions: ActionRegistry = ACTIONS): JsonSchema {
  const { $schema, ...document } = toJsonSchema(runbookSchema);
  const properties = document.properties as Record<string, JsonSchema>;
  const steps = properties.steps as JsonSchema;
  const rules = actionInputRules(actions);
  const step = { ...(steps.items as JsonSchema), ...(rules.length === 0 ? {} : { allOf: rules }) };
  return {
    $schema,
    title: 'pipewarden runbook',
    description: 'One runbook: which incidents it recovers (match) and the steps it runs.',
    ...document,
    properties: { ...properties, steps: { ...steps, items: step } },
  };
}

/** runbooks/schema.json as written to disk. */
export function renderRunbookJsonSchema(actions: ActionRegistry = ACTIONS): string {
  return `${JSON.stringify(runbookJsonSchema(actions), null, 2)}\n`;
}
