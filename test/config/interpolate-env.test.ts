import { describe, expect, it } from 'vitest';
import { interpolateDocument, interpolateString, redactSubstitutions } from '../../src/config/interpolate-env.ts';
import { parseYamlSource } from '../../src/config/yaml-positions.ts';

describe('interpolateString', () => {
  it('replaces ${VAR} with its value', () => {
    const result = interpolateString('postgres://${USER}:${PASSWORD}@db/x', { USER: 'reader', PASSWORD: 's3cret' });
    expect(result.value).toBe('postgres://reader:s3cret@db/x');
    expect(result.problems).toEqual([]);
    expect(result.substitutions).toEqual([
      { reference: '${USER}', value: 'reader', fromEnvironment: true },
      { reference: '${PASSWORD}', value: 's3cret', fromEnvironment: true },
    ]);
  });

  it('uses the default when the variable is unset or empty, and the value when it is set', () => {
    expect(interpolateString('${PORT:-5432}', {}).value).toBe('5432');
    expect(interpolateString('${PORT:-5432}', { PORT: '' }).value).toBe('5432');
    expect(interpolateString('${PORT:-5432}', { PORT: '6543' }).value).toBe('6543');
    expect(interpolateString('${EMPTY:-}', {}).value).toBe('');
    expect(interpolateString('${URL:-postgres://localhost:5432/a}', {}).value).toBe('postgres://localhost:5432/a');
  });

  it('keeps a set but empty variable without a default as the empty string', () => {
    expect(interpolateString('${TOKEN}', { TOKEN: '' })).toMatchObject({ value: '', problems: [] });
  });

  it('turns $${ into a literal ${', () => {
    expect(interpolateString('cost $${AMOUNT} for ${WHO}', { WHO: 'you', AMOUNT: 'never' }).value).toBe('cost ${AMOUNT} for you');
    // Read left to right: a plain "$", then the escape.
    expect(interpolateString('$$${X}', { X: 'x' }).value).toBe('$${X}');
  });

  it('leaves a lone $ alone', () => {
    expect(interpolateString('price $5 {ok}', {}).value).toBe('price $5 {ok}');
  });

  it('names a missing variable and says how to fix it', () => {
    expect(interpolateString('${PD_KEY}', {}).problems).toEqual([
      'environment variable PD_KEY is not set (referenced as ${PD_KEY}); set it, or give a default with ${PD_KEY:-default}',
    ]);
  });

  it('reports every missing variable in one string', () => {
    expect(interpolateString('${A}-${B}', {}).problems).toHaveLength(2);
  });

  it('rejects malformed references', () => {
    expect(interpolateString('${ spaced }', {}).problems[0]).toContain('"${ spaced }" is not a variable reference');
    expect(interpolateString('${1ABC}', {}).problems[0]).toContain('not a variable reference');
    expect(interpolateString('abc ${OPEN', {}).problems[0]).toContain('unclosed "${"');
  });
});

describe('interpolateDocument', () => {
  it('interpolates string values in place, but never keys', () => {
    const { source } = parseYamlSource('p.yaml', 'a:\n  "${KEY}": "${VALUE}"\n  list: [x, "${VALUE}"]\n');
    const result = interpolateDocument(source, { KEY: 'k', VALUE: 'v' });
    expect(source.document.toJS()).toEqual({ a: { '${KEY}': 'v', list: ['x', 'v'] } });
    expect(result.scalars.map((scalar) => scalar.path)).toEqual([['a', '${KEY}'], ['a', 'list', 1]]);
  });

  it('re-reads unquoted results as numbers and booleans, keeps quoted ones as strings', () => {
    const { source } = parseYamlSource('p.yaml', 'port: ${PORT}\nquoted: "${PORT}"\non: ${ON}\nname: ${NAME}\n');
    interpolateDocument(source, { PORT: '5432', ON: 'true', NAME: '0x10 team' });
    expect(source.document.toJS()).toEqual({ port: 5432, quoted: '5432', on: true, name: '0x10 team' });
  });

  it('reports problems with the path of their scalar and leaves it as written', () => {
    const { source } = parseYamlSource('p.yaml', 'owners:\n  team: { pagerduty: "${PD}" }\n');
    const result = interpolateDocument(source, {});
    expect(result.problems).toEqual([{ path: ['owners', 'team', 'pagerduty'], message: expect.stringContaining('PD is not set') }]);
    expect(source.document.toJS()).toEqual({ owners: { team: { pagerduty: '${PD}' } } });
  });
});

describe('redactSubstitutions', () => {
  const { source } = parseYamlSource('p.yaml', 'a: "${SECRET}"\nb: "x-${SHORT}"\nc: "${D:-abcdef}"\n');
  const interpolation = interpolateDocument(source, { SECRET: 'hunter2-long', SHORT: 'ab' });

  it('shows a message about a scalar with that scalar as written', () => {
    expect(redactSubstitutions('got "x-ab"', ['b'], interpolation)).toBe('got "x-${SHORT}"');
  });

  it('replaces environment values anywhere in any message', () => {
    expect(redactSubstitutions('token hunter2-long leaked', ['c'], interpolation)).toBe('token ${SECRET} leaked');
  });

  it('leaves short values and defaults alone elsewhere, so ordinary words survive', () => {
    expect(redactSubstitutions('about abcdef', ['a'], interpolation)).toBe('about abcdef');
    expect(redactSubstitutions('tab b', ['a'], interpolation)).toBe('tab b');
  });
});
