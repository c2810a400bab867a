import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/load-config.ts';
import { formatProblem } from '../../src/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = 'pipewarden.example.yaml';

/** Every variable the example requires (referenced without a default, outside comments). */
async function requiredVariables(): Promise<string[]> {
  const text = await readFile(resolve(ROOT, EXAMPLE), 'utf8');
  const uncommented = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return [...new Set([...uncommented.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] as string))];
}

describe(EXAMPLE, () => {
  it('validates once the variables it references are set', async () => {
    const names = await requiredVariables();
    expect(names).toEqual(['WAREHOUSE_URL', 'PD_ROUTING_INVENTORY', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'PD_WEBHOOK_SECRET']);
    const env = Object.fromEntries(names.map((name) => [name, `value-of-${name}`]));
    const { config, problems } = await checkConfigFile(EXAMPLE, env, { cwd: ROOT });
    expect(problems.map(formatProblem)).toEqual([]);
    expect(config?.warehouses.analytics?.url).toBe('value-of-WAREHOUSE_URL');
    expect(config?.monitors).toHaveLength(2);
    expect(config?.runbooks.folder).toBe(resolve(ROOT, 'runbooks'));
    expect(config?.pagerduty?.routing_key).toBe('');
  });

  it('names each variable that is missing', async () => {
    const { problems } = await checkConfigFile(EXAMPLE, {}, { cwd: ROOT });
    const missing = problems.map((problem) => /environment variable (\w+) is not set/.exec(problem.message)?.[1]);
    expect(missing).toEqual(await requiredVariables());
  });
});
