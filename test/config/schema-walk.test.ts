import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema, duration } from '../../src/config/schema.ts';
import { inputShapes, knownKeysAt, schemasAtPath, unwrapSchema } from '../../src/config/schema-walk.ts';

describe('knownKeysAt', () => {
  it('lists the top-level keys in schema order', () => {
    expect(knownKeysAt(configSchema, []).slice(0, 3)).toEqual(['warehouses', 'state', 'schedule']);
  });

  it('goes through records, arrays, defaults and prefaults', () => {
    expect(knownKeysAt(configSchema, ['warehouses', 'anything'])).toEqual(['type', 'url', 'write_url', 'schemas', 'max_connections', 'statement_timeout', 'connect_timeout']);
    expect(knownKeysAt(configSchema, ['monitors', 3])).toContain('freshness');
    expect(knownKeysAt(configSchema, ['state', 'embedded'])).toEqual(['dir', 'port']);
  });

  it('goes into the object branch of a union', () => {
    expect(knownKeysAt(configSchema, ['monitors', 0, 'freshness'])).toEqual(['column', 'warn_after', 'error_after', 'sensitivity']);
  });

  it('is empty where there is no object', () => {
    expect(knownKeysAt(configSchema, ['runbooks', 'folder'])).toEqual([]);
    expect(knownKeysAt(configSchema, ['nope', 'deeper'])).toEqual([]);
    expect(knownKeysAt(configSchema, ['monitors', 'not-an-index'])).toEqual([]);
  });

  it('merges the keys of several object branches', () => {
    const schema = z.object({ x: z.union([z.object({ a: z.string() }), z.object({ b: z.string(), a: z.string() })]) });
    expect(knownKeysAt(schema, ['x'])).toEqual(['a', 'b']);
  });
});

describe('unwrapSchema', () => {
  it('reports optional and default values', () => {
    const shape = configSchema.shape;
    expect(unwrapSchema(shape.slack)).toMatchObject({ optional: true, hasDefault: false });
    expect(unwrapSchema(shape.runbooks.unwrap().shape.folder)).toMatchObject({ hasDefault: true, defaultValue: './runbooks' });
    expect(unwrapSchema(shape.shutdown_timeout)).toMatchObject({ hasDefault: true, defaultValue: '30s', schema: duration });
  });
});

describe('inputShapes', () => {
  it('sees what people write: the input side of a transform, each union option', () => {
    const kinds = inputShapes(configSchema.shape.monitors.unwrap().element.shape.assets).map((shape) => shape._zod.def.type);
    expect(kinds).toEqual(['string', 'array']);
  });

  it('finds the schemas at a path', () => {
    expect(schemasAtPath(configSchema, ['logging', 'level'])).toHaveLength(1);
    expect(schemasAtPath(configSchema, ['logging', 'nope'])).toHaveLength(0);
  });
});
