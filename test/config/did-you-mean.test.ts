import { describe, expect, it } from 'vitest';
import { closestMatch, suggestion } from '../../src/config/did-you-mean.ts';

describe('closestMatch', () => {
  it('finds a key within two edits', () => {
    expect(closestMatch('max_conections', ['max_connections', 'url'])).toBe('max_connections');
    expect(closestMatch('shema', ['schema', 'assets'])).toBe('schema');
    expect(closestMatch('URL', ['url'])).toBe('url');
  });

  it('allows a third of the length for long words', () => {
    expect(closestMatch('statment_timeot_ms', ['statement_timeout'])).toBe('statement_timeout');
  });

  it('suggests nothing for a word that is not close', () => {
    expect(closestMatch('colour', ['assets', 'owner', 'schema'])).toBeUndefined();
    expect(closestMatch('c', ['a', 'b'])).toBeUndefined();
  });

  it('prefers the closest candidate', () => {
    expect(closestMatch('volum', ['column', 'volume'])).toBe('volume');
  });
});

describe('suggestion', () => {
  it('asks "did you mean" or lists what is allowed', () => {
    expect(suggestion('sever', ['server', 'state'])).toBe('did you mean "server"?');
    expect(suggestion('zzz', ['server', 'state'])).toBe('expected one of: server, state');
    expect(suggestion('zzz', [])).toBe('nothing is allowed here');
  });
});
