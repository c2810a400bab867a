import { copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbtTargetSchema } from '../../../src/collect/dbt/dbt-target-config.ts';
import { readDbtTarget } from '../../../src/collect/dbt/read-dbt-target.ts';
import { fixturePath } from './dbt-fixtures.ts';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pw-dbt-target-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

const place = (fixture: string, as: string) => copyFile(fixturePath(fixture), join(folder, as));

describe('readDbtTarget', () => {
  it('reads the four artifacts of a target folder', async () => {
    await place('manifest__v12__dbt-1.11.7__jaffle_shop.json', 'manifest.json');
    await place('run_results__v6__dbt-1.9.0__jaffle_shop.json', 'run_results.json');
    await place('sources__v3__dbt-1.9.1__ticketswap__pass.json', 'sources.json');
    await place('catalog__v1__dbt-1.11.7__jaffle_shop.json', 'catalog.json');
    const read = await readDbtTarget(folder);
    expect(read.problems).toEqual([]);
    expect(read.manifest?.nodes.size).toBe(56);
    expect(read.runResults?.results).toHaveLength(61);
    expect(read.sources?.results).toHaveLength(1);
    expect(read.catalog?.entries.size).toBe(19);
    expect(read.signatures['manifest.json']).toEqual({ mtimeMs: expect.any(Number), size: 1_017_844 });
  });

  it('keeps the good files when one is broken, and names the broken one and where', async () => {
    await place('manifest__v12__dbt-1.11.7__jaffle_shop.json', 'manifest.json');
    await place('broken__run_results__result-without-unique-id.json', 'run_results.json');
    await place('broken__not-json.json', 'sources.json');
    const read = await readDbtTarget(folder);
    expect(read.manifest?.nodes.size).toBe(56);
    expect(read.runResults).toBeNull();
    expect(read.sources).toBeNull();
    expect(read.catalog).toBeNull();
    expect(read.signatures['catalog.json']).toBeNull();
    expect(read.problems.map((problem) => problem.file)).toEqual([join(folder, 'run_results.json'), join(folder, 'sources.json')]);
    expect(read.problems[0]?.message).toMatch(new RegExp(`^${escape(join(folder, 'run_results.json'))}: \\$\\.results\\[1\\]\\.unique_id: `));
    expect(read.problems[1]?.message).toMatch(new RegExp(`^${escape(join(folder, 'sources.json'))}: \\$: not valid JSON`));
  });

  it('says clearly when the folder holds no artifacts, or does not exist', async () => {
    expect((await readDbtTarget(folder)).problems).toEqual([
      {
        file: folder,
        message:
          `${folder}: no dbt artifacts here (looked for manifest.json, run_results.json, sources.json, catalog.json); ` +
          'point the dbt target at the folder dbt writes to (usually <project>/target) and run dbt build or dbt source freshness',
      },
    ]);
    const missing = join(folder, 'nope');
    const read = await readDbtTarget(missing);
    expect(read.problems).toHaveLength(1);
    expect(read.problems[0]?.message).toMatch(new RegExp(`^${escape(missing)}: cannot open the dbt target folder \\(.*ENOENT.*\\); check the path`));
  });

  it('reuses what did not change and re-reads what did', async () => {
    await place('manifest__v12__dbt-1.11.7__jaffle_shop.json', 'manifest.json');
    await place('run_results__v4__dbt-1.0.0__jaffle_shop__with_error.json', 'run_results.json');
    const first = await readDbtTarget(folder);
    const again = await readDbtTarget(folder, first);
    expect(again.manifest).toBe(first.manifest);
    expect(again.runResults).toBe(first.runResults);

    await place('run_results__v6__dbt-1.9.0__jaffle_shop.json', 'run_results.json');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(folder, 'run_results.json'), later, later);
    const changed = await readDbtTarget(folder, again);
    expect(changed.manifest).toBe(first.manifest);
    expect(changed.runResults).not.toBe(first.runResults);
    expect(changed.runResults?.version).toBe(6);
  });

  it('re-reads a file that was broken last time even with the same signature', async () => {
    await writeFile(join(folder, 'run_results.json'), '{"metadata": {}, "results": [');
    const first = await readDbtTarget(folder);
    expect(first.problems).toHaveLength(1);
    const again = await readDbtTarget(folder, first);
    expect(again.problems).toEqual(first.problems);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('dbtTargetSchema', () => {
  it('takes a path and an optional warehouse, and refuses unknown keys', () => {
    expect(dbtTargetSchema.parse({ target: './target', warehouse: 'analytics' })).toEqual({
      target: './target',
      warehouse: 'analytics',
      duration: { sensitivity: 'medium', history: 20, min_history: 5, min_excess: 60_000 },
    });
    expect(dbtTargetSchema.safeParse({ target: './target', warehous: 'analytics' }).success).toBe(false);
    expect(dbtTargetSchema.safeParse({ target: '' }).success).toBe(false);
  });

  it('takes execution-time settings, and says which to change when min_history exceeds history', () => {
    expect(dbtTargetSchema.parse({ target: './t', duration: { sensitivity: 'high', history: 30, min_excess: '5m' } }).duration).toEqual({ sensitivity: 'high', history: 30, min_history: 5, min_excess: 300_000 });
    const result = dbtTargetSchema.safeParse({ target: './t', duration: { history: 10, min_history: 12 } });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['duration', 'min_history'], message: 'min_history (12) cannot exceed history (10): raise history or lower min_history' }),
    ]);
  });
});
