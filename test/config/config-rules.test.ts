import { describe, expect, it } from 'vitest';
import { checkConfigRules } from '../../src/config/config-rules.ts';

const warehouses = { analytics: { type: 'postgres', url: 'u' } };

function messages(input: unknown): string[] {
  return checkConfigRules(input).map((problem) => `${problem.path.join('/')}: ${problem.message}`);
}

describe('checkConfigRules', () => {
  it('accepts every kind of check, including freshness: true and schema: true', () => {
    const monitors = [{ assets: 'a', freshness: true }, { assets: 'a', schema: true }, { assets: 'a', volume: { column: 'c' } }, { assets: 'a', distribution: {} }];
    expect(messages({ warehouses, monitors })).toEqual([]);
  });

  it('does not count schema: false or an empty value as a check', () => {
    expect(messages({ warehouses, monitors: [{ assets: 'a', schema: false, freshness: null }] })).toEqual([
      'monitors/0: monitor has no checks; add at least one of freshness, volume, distribution or "schema: true"',
    ]);
  });

  it('leaves a misspelled check to the unknown-key problem', () => {
    expect(messages({ warehouses, monitors: [{ assets: 'a', volum: { column: 'c' } }] })).toEqual([]);
  });

  it('suggests the closest owner', () => {
    const input = { warehouses, owners: { 'inventory-team': {}, 'growth-team': {} }, monitors: [{ assets: 'a', owner: 'inventory', schema: true }] };
    expect(messages(input)).toEqual(['monitors/0/owner: unknown owner "inventory"; expected one of: inventory-team, growth-team']);
    input.monitors[0]!.owner = 'inventroy-team';
    expect(messages(input)).toEqual(['monitors/0/owner: unknown owner "inventroy-team"; did you mean "inventory-team"?']);
  });

  it('checks the owners of Airflow and SQLMesh sources and the warehouse of a dbt target', () => {
    const input = {
      warehouses,
      owners: { 'data-eng': {} },
      airflow: [{ name: 'prod', url: 'u', owner: 'data-eng' }, { name: 'old', url: 'u', owner: 'dataeng' }],
      sqlmesh: [{ name: 'state', url: 'u', owner: 'nobody' }],
      dbt: [{ target: './target', warehouse: 'analytic' }, { target: './other', warehouse: 'analytics' }, { target: './keys' }],
    };
    expect(messages(input)).toEqual([
      'airflow/1/owner: unknown owner "dataeng"; did you mean "data-eng"?',
      'sqlmesh/0/owner: unknown owner "nobody"; expected one of: data-eng',
      'dbt/0/warehouse: unknown warehouse "analytic"; did you mean "analytics"?',
    ]);
  });

  it('compares freshness thresholds only when both are valid durations', () => {
    const monitor = (freshness: unknown) => ({ warehouses, monitors: [{ assets: 'a', freshness }] });
    expect(messages(monitor({ warn_after: '1h', error_after: '1h' }))).toHaveLength(1);
    expect(messages(monitor({ warn_after: '90m', error_after: '1h' }))[0]).toContain('warn_after (90m) must be shorter than error_after (1h)');
    expect(messages(monitor({ warn_after: '30m', error_after: '1h' }))).toEqual([]);
    expect(messages(monitor({ warn_after: '1x', error_after: '1h' }))).toEqual([]);
  });

  it('checks glob warehouses only when there are several warehouses', () => {
    const monitors = [{ assets: ['public.orders'], schema: true }];
    expect(messages({ warehouses, monitors })).toEqual([]);
    const two = { ...warehouses, billing: { type: 'postgres', url: 'u' } };
    expect(messages({ warehouses: two, monitors })).toHaveLength(1);
    expect(messages({ warehouses: two, monitors: [{ assets: ['{analytics,billing}.public.*', 'bill*.x.y'], schema: true }] })).toEqual([]);
  });

  it('skips what the schema rejects instead of failing on it', () => {
    expect(checkConfigRules(null)).toEqual([]);
    expect(checkConfigRules({ monitors: 'nope', owners: [], notifications: 5 })).toEqual([]);
    expect(messages({ monitors: [null, 7] })).toEqual([]);
  });
});
