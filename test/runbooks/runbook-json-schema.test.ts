import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { allowPlaceholders, renderRunbookJsonSchema, runbookJsonSchema } from '../../src/runbooks/runbook-json-schema.ts';
import type { JsonSchema } from '../../src/runbooks/runbook-json-schema.ts';
import { TEST_ACTIONS } from '../fixtures/runbooks/test-actions.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const VALID = resolve(import.meta.dirname, '../fixtures/runbooks/valid');

function validRunbooks(): { file: string; data: unknown }[] {
  return readdirSync(VALID)
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => ({ file, data: parse(readFileSync(join(VALID, file), 'utf8')) as unknown }));
}

function validator(schema: JsonSchema): (data: unknown) => string[] {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`));
}

const STEP = { name: 'load', action: 'backfill' };

describe('runbook JSON Schema', () => {
  it('is up to date in runbooks/schema.json (run `npm run docs:runbooks` to fix)', () => {
    const published = readFileSync(join(ROOT, 'runbooks/schema.json'), 'utf8');
    expect(published, 'runbooks/schema.json is out of date; run npm run docs:runbooks').toBe(renderRunbookJsonSchema());
  });

  it('accepts the example runbooks, as published', () => {
    const check = validator(JSON.parse(readFileSync(join(ROOT, 'runbooks/schema.json'), 'utf8')) as JsonSchema);
    for (const { file, data } of validRunbooks()) expect(check(data), file).toEqual([]);
  });

  it('accepts the example runbooks with every action spelled out', () => {
    const check = validator(runbookJsonSchema(TEST_ACTIONS));
    for (const { file, data } of validRunbooks()) expect(check(data), file).toEqual([]);
  });

  it("checks each step's with against its action, allowing ${…} where the value is bound at run time", () => {
    const check = validator(runbookJsonSchema(TEST_ACTIONS));
    const runbook = (step: Record<string, unknown>) => ({ name: 'r', steps: [{ ...STEP, ...step }] });
    const step = { action: 'command' };
    expect(check(runbook({ with: { concurrency: '${params.n}', step } }))).toEqual([]);
    expect(check(runbook({ with: { concurrency: 'seven', step } }))).toContain('/steps/0/with/concurrency must be integer');
    expect(check(runbook({ with: { concurrency: 2, stpe: step } }))).toContain("/steps/0/with must have required property 'step'");
    expect(check(runbook({}))).toContain("/steps/0 must have required property 'with'");
    expect(check(runbook({ action: 'escalate', with: {} }))).toEqual([]);
    expect(check(runbook({ action: 'rerun' }))).toEqual(['/steps/0/action must be equal to one of the allowed values']);
  });

  it('offers each action and its with keys where an editor completes them', () => {
    const schema = runbookJsonSchema(TEST_ACTIONS) as { properties: { steps: { items: JsonSchema } } };
    const step = schema.properties.steps.items as { properties: { action: { enum: string[] } }; allOf: JsonSchema[] };
    expect(step.properties.action.enum).toContain('command');
    const command = step.allOf.find((rule) => JSON.stringify(rule.if).includes('"command"')) as { then: { properties: { with: { properties: Record<string, JsonSchema> } } } };
    expect(Object.keys(command.then.properties.with.properties)).toEqual(['argv', 'cwd']);
    expect(command.then.properties.with.properties.argv?.description).toBe('Program and arguments, one per element.');
  });

  it('leaves plain strings alone and lets a placeholder stand in for anything else', () => {
    const placeholder = { type: 'string', pattern: '\\$\\{', description: 'A `${…}` placeholder, bound when the step runs.' };
    expect(allowPlaceholders({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer', description: 'd' } } })).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { description: 'd', anyOf: [{ type: 'integer' }, placeholder] } },
    });
  });
});
