import { describe, expect, it } from 'vitest';
import { parseEnvironmentSnapshots, parseTimeLike, snapshotIdentifier, unquoteModelName } from '../../../src/collect/sqlmesh/parse-sqlmesh-state.ts';
import { sqlmeshSchema } from '../../../src/collect/sqlmesh/sqlmesh-config.ts';
import { dumpRows } from './sqlmesh-state-fixture.ts';

describe('parsing SQLMesh state documents', () => {
  it('joins an environment entry to its snapshot row by the identifier its fingerprint hashes to', () => {
    const staging = dumpRows('_environments').find((row) => row['name'] === 'staging');
    const refs = parseEnvironmentSnapshots(String(staging?.['snapshots']), 'staging');
    const snapshotIds = new Set(dumpRows('_snapshots').map((row) => `${String(row['name'])}/${String(row['identifier'])}`));
    expect(refs).toHaveLength(10);
    for (const ref of refs) expect(snapshotIds.has(`${ref.name}/${String(ref.identifier)}`)).toBe(true);
    expect(snapshotIdentifier({ data_hash: '486172035', metadata_hash: '1992853678', parent_data_hash: '2154574190', parent_metadata_hash: '1349779748' })).toBe('1281222509');
  });

  it('names where an environment document is wrong', () => {
    expect(() => parseEnvironmentSnapshots('[{"name": "x"}]', 'sqlmesh._environments[name="prod"].snapshots')).toThrow(
      'sqlmesh._environments[name="prod"].snapshots[0]: field.version: Invalid input: expected string, received undefined',
    );
    expect(() => parseEnvironmentSnapshots('not json', 'where')).toThrow(/^where: is not valid JSON/);
  });

  it('reads the time-likes SQLMesh models use for start', () => {
    const now = Date.parse('2025-06-10T12:00:00Z');
    expect(parseTimeLike('2022-01-01', now)).toBe(Date.parse('2022-01-01T00:00:00Z'));
    expect(parseTimeLike('Jan 1 2022', now)).toBe(Date.parse('2022-01-01T00:00:00Z'));
    expect(parseTimeLike('2023-01-01 00:00:00', now)).toBe(Date.parse('2023-01-01T00:00:00Z'));
    expect(parseTimeLike(1672531200000, now)).toBe(1672531200000);
    expect(parseTimeLike('3 days ago', now)).toBe(now - 3 * 86_400_000);
    expect(parseTimeLike('whenever', now)).toBeUndefined();
  });

  it('unquotes state names', () => {
    expect(unquoteModelName('"sushi"."orders"')).toBe('sushi.orders');
    expect(unquoteModelName('"db"."sushi"."it""s.x"')).toBe('db.sushi.it"s.x');
  });
});

describe('sqlmesh config', () => {
  it('fills the defaults', () => {
    expect(sqlmeshSchema.parse([{ name: 'shop', url: 'postgres://x/y' }])).toEqual([
      { name: 'shop', url: 'postgres://x/y', schema: 'sqlmesh', environment: 'prod', exclude: [], late_after: 3_600_000, lookback: 7 * 86_400_000, statement_timeout: 30_000 },
    ]);
  });

  it('says which field is wrong', () => {
    const result = sqlmeshSchema.safeParse([{ name: 'shop', url: 'postgres://x/y', lookback: 'a week' }, { name: 'shop', url: 'postgres://x/z' }]);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['0.lookback', 'expected a duration like "1h", got "a week"'],
    ]);
    const duplicate = sqlmeshSchema.safeParse([{ name: 'shop', url: 'postgres://x/y' }, { name: 'shop', url: 'postgres://x/z' }]);
    expect(duplicate.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['1.name', 'another SQLMesh source is already named "shop": give each a name of its own'],
    ]);
  });
});
