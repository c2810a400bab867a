// The `airflow:` config section: defaults a person can rely on and errors that say where.

import { describe, expect, it } from 'vitest';
import { airflowSchema } from '../../../src/collect/airflow/airflow-config.ts';

describe('airflowSchema', () => {
  it('fills the defaults', () => {
    const [source] = airflowSchema.parse([{ name: 'prod', url: 'postgres://airflow@db/airflow' }]);
    expect(source).toEqual({
      name: 'prod',
      url: 'postgres://airflow@db/airflow',
      dags: ['*'],
      exclude: [],
      lookback: 86_400_000,
      long_run: { sensitivity: 'medium', history: 20, min_history: 5, min_excess: 60_000 },
      not_started_after: 900_000,
      statement_timeout: 30_000,
      connect_timeout: 10_000,
    });
    expect(airflowSchema.parse(undefined)).toEqual([]);
  });

  it('names the field of a bad duration, an unknown key, a duplicate name and an impossible history', () => {
    const result = airflowSchema.safeParse([
      { name: 'prod', url: 'u', not_started_after: 'soon', dag: 'x' },
      { name: 'prod', url: 'u', long_run: { history: 5, min_history: 10 } },
    ]);
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(issues).toEqual(
      expect.arrayContaining([
        '0.not_started_after: expected a duration like "1h", got "soon"',
        expect.stringMatching(/^0: .*"dag"/),
        '1.long_run.min_history: min_history (10) cannot exceed history (5): raise history or lower min_history',
      ]),
    );
  });

  it('refuses two sources with one name', () => {
    const result = airflowSchema.safeParse([
      { name: 'prod', url: 'u' },
      { name: 'prod', url: 'v' },
    ]);
    expect(result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['1.name: another Airflow source is already named "prod": give each a name of its own']);
  });
});
