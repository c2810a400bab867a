import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFile, checkConfigText, loadConfig } from '../../src/config/load-config.ts';
import { ConfigError, formatProblem } from '../../src/errors.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/config');
const WAREHOUSE = 'postgres://reader:hunter2-warehouse@db.internal:5432/analytics';

function check(text: string, env: Record<string, string> = {}) {
  return checkConfigText(text, 'pipewarden.yaml', env, '/srv/pipewarden');
}

function lines(problems: readonly Parameters<typeof formatProblem>[0][]): string[] {
  return problems.map(formatProblem);
}

describe('checkConfigFile', () => {
  it('reports each of five different mistakes at its own line, column and path', async () => {
    const { config, problems } = await checkConfigFile('five-mistakes.yaml', { WAREHOUSE_URL: WAREHOUSE }, { cwd: FIXTURES });
    expect(config).toBeUndefined();
    expect(lines(problems)).toEqual([
      'five-mistakes.yaml:7:5: warehouses.analytics.max_conections: unknown key "max_conections"; did you mean "max_connections"?',
      'five-mistakes.yaml:9:10: schedule.sweep: expected a cron expression like "*/5 * * * *", got "every 5 minutes"',
      'five-mistakes.yaml:13:16: owners.inventory-team.pagerduty: environment variable PD_ROUTING_INVENTORY is not set (referenced as ${PD_ROUTING_INVENTORY}); set it, or give a default with ${PD_ROUTING_INVENTORY:-default}',
      'five-mistakes.yaml:16:12: monitors[0].owner: unknown owner "inventroy-team"; did you mean "inventory-team"?',
      'five-mistakes.yaml:19:15: monitors[0].volume.bucket: expected a duration like "1h", got "1x"',
    ]);
  });

  it('loads a valid file with paths resolved against the config folder', async () => {
    const loaded = await loadConfig('valid.yaml', { WAREHOUSE_URL: WAREHOUSE }, { cwd: FIXTURES });
    expect(loaded.path).toBe(join(FIXTURES, 'valid.yaml'));
    expect(loaded.directory).toBe(FIXTURES);
    expect(loaded.config.runbooks.folder).toBe(join(FIXTURES, 'runbooks'));
    expect(loaded.config.state.embedded.dir).toBe(resolve(FIXTURES, '../state'));
    expect(loaded.config.warehouses.analytics?.url).toBe(WAREHOUSE);
    expect(loaded.config.owners['inventory-team']?.pagerduty).toBe('');
    expect(loaded.config.monitors[0]?.volume?.bucket).toBe(3_600_000);
  });

  it('keeps absolute paths in the config as they are', () => {
    const { config } = check('warehouses: { a: { type: postgres, url: u } }\nrunbooks: { folder: /etc/pipewarden/runbooks }\n');
    expect(config?.runbooks.folder).toBe('/etc/pipewarden/runbooks');
    expect(config?.state.embedded.dir).toBe('/srv/pipewarden/.pipewarden');
  });

  it('says how to fix a missing file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-config-'));
    const { problems } = await checkConfigFile('pipewarden.yaml', {}, { cwd: directory });
    expect(lines(problems)).toEqual(['pipewarden.yaml:1:1: config file not found (create one, or pass --config PATH)']);
  });

  it('says when the path is a folder', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-config-'));
    await mkdir(join(directory, 'conf'));
    const { problems } = await checkConfigFile('conf', {}, { cwd: directory });
    expect(problems[0]?.message).toContain('is a folder');
  });

  it('throws a ConfigError carrying every problem', async () => {
    const error = await loadConfig('five-mistakes.yaml', { WAREHOUSE_URL: WAREHOUSE }, { cwd: FIXTURES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(5);
    expect((error as ConfigError).message.split('\n')).toHaveLength(5);
  });
});

describe('YAML syntax', () => {
  it('reports syntax errors at the yaml library positions and stops there', async () => {
    const { problems } = await checkConfigFile('syntax-error.yaml', {}, { cwd: FIXTURES });
    expect(lines(problems)).toEqual([
      'syntax-error.yaml:6:1: YAML syntax error: Missing closing "quote (fix the YAML before the settings can be checked)',
    ]);
  });

  it('reports every syntax error, each with its own position', () => {
    const text = 'warehouses:\n  analytics:\n    type: postgres\n   url: x\nlogging:\n\tlevel: info\n';
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:4:1: YAML syntax error: All mapping items must start at the same column (fix the YAML before the settings can be checked)',
      'pipewarden.yaml:6:1: YAML syntax error: Tabs are not allowed as indentation (fix the YAML before the settings can be checked)',
    ]);
  });

  it('reports duplicate keys', () => {
    const problems = check('warehouses: {}\nwarehouses: {}\n').problems;
    expect(lines(problems)).toEqual(['pipewarden.yaml:2:1: YAML syntax error: Map keys must be unique (fix the YAML before the settings can be checked)']);
  });

  it('reports an alias without its anchor at the alias', () => {
    expect(lines(check('warehouses: *shared\n').problems)).toEqual([
      'pipewarden.yaml:1:13: alias *shared has no anchor &shared before it; define the anchor first',
    ]);
  });

  it('follows aliases that do resolve', () => {
    const text = 'warehouses:\n  a: &pg { type: postgres, url: "${URL}" }\n  b: *pg\nmonitors:\n  - { assets: "c.*", schema: true }\n';
    expect(lines(check(text, { URL: 'u' }).problems)).toEqual([
      'pipewarden.yaml:5:15: monitors[0].assets: "c.*" names no warehouse (a glob\'s first part is the warehouse name); start it with one of: a, b',
    ]);
  });

  it('asks for one document when the file holds several', () => {
    expect(lines(check('warehouses: {}\n---\nmonitors: []\n').problems)).toEqual([
      'pipewarden.yaml:2:1: YAML syntax error: the file holds several YAML documents (split by "---"); keep the config in one',
    ]);
  });

  it('explains an empty file', () => {
    expect(lines(check('# nothing yet\n').problems)).toEqual([
      'pipewarden.yaml:1:1: config file is empty; start from pipewarden.example.yaml (at least one warehouse is needed)',
    ]);
  });
});

describe('schema problems', () => {
  it('points at an unknown key itself and suggests the close one', async () => {
    const { problems } = await checkConfigFile('unknown-keys.yaml', {}, { cwd: FIXTURES });
    expect(lines(problems)).toEqual([
      'unknown-keys.yaml:5:5: monitors[0].freshnes: unknown key "freshnes"; did you mean "freshness"?',
      'unknown-keys.yaml:6:5: monitors[0].shema: unknown key "shema"; did you mean "schema"?',
      'unknown-keys.yaml:7:5: monitors[0].colour: unknown key "colour"; expected one of: assets, exclude, owner, freshness, volume, distribution, schema, page_on',
      'unknown-keys.yaml:8:1: sever: unknown key "sever"; did you mean "server"?',
    ]);
  });

  it('points at the parent mapping for a missing required key', () => {
    const text = 'warehouses:\n  analytics:\n    type: postgres\nmonitors:\n  - assets: analytics.x\n    distribution:\n      columns: [status]\n';
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:2:3: warehouses.analytics.url: missing required key "url" (a string); add it',
      'pipewarden.yaml:6:5: monitors[0].distribution.column: missing required key "column" (a string); add it',
    ]);
  });

  it('reads an empty value as left out where the key is optional', () => {
    const text = 'warehouses:\n  a: { type: postgres, url: u }\nstate:\n  # url: ${DATABASE_URL}\nmonitors:\n  - assets: a.x\n    owner:\n    schema: true\n';
    const { config, problems } = check(text);
    expect(problems).toEqual([]);
    expect(config?.state.schema).toBe('pipewarden');
    expect(config?.monitors[0]?.owner).toBeUndefined();
    expect(check(`${text}`, { DATABASE_URL: 'postgres://state' }).config?.state.url).toBe('postgres://state');
  });

  it('points at the value for a key written without one', () => {
    const text = 'warehouses:\n  analytics:\n    type: postgres\n    url:\n';
    expect(lines(check(text).problems)).toEqual(['pipewarden.yaml:4:5: warehouses.analytics.url: expected a string, got an empty value']);
  });

  it('rewrites zod\'s bare messages into what is expected and what was written', () => {
    const text = [
      'warehouses:',
      '  analytics: { type: mysql, url: u, max_connections: 50 }',
      '  "bad name": { type: postgres, url: u }',
      'server: 9464',
      'monitors:',
      '  - { assets: 5, freshness: "yes" }',
      '  - { assets: analytics.b, distribution: { column: c, columns: [] } }',
      'notifications: { grafana_url: not-a-url }',
      'logging: { level: loud }',
      '',
    ].join('\n');
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:2:22: warehouses.analytics.type: expected one of: postgres; got "mysql"',
      'pipewarden.yaml:2:54: warehouses.analytics.max_connections: expected a number at most 20, got 50',
      'pipewarden.yaml:3:3: warehouses["bad name"]: invalid name "bad name": expected a name of letters, digits, "_" or "-"',
      'pipewarden.yaml:4:9: server: expected a mapping, got 9464',
      'pipewarden.yaml:6:15: monitors[0].assets: expected a string or a list, got 5',
      'pipewarden.yaml:6:29: monitors[0].freshness: expected true or a mapping, got "yes"',
      'pipewarden.yaml:7:64: monitors[1].distribution.columns: expected at least 1 item',
      'pipewarden.yaml:8:31: notifications.grafana_url: expected a URL like "https://grafana.example.com", got "not-a-url"',
      'pipewarden.yaml:9:19: logging.level: expected one of: fatal, error, warn, info, debug, trace; got "loud"',
    ]);
  });

  it('never passes on zod\'s own wording', () => {
    const text = [
      'warehouses: { a: { type: 1, url: [], schemas: "x", max_connections: 1.5, connect_timeout: 3 } }',
      'state: { schema: "1 bad", embedded: { port: 80 } }',
      'monitors: [{ assets: [], exclude: "x", freshness: false, volume: [], distribution: { column: 1, columns: [2] } }]',
      'owners: { t: "x" }',
      'notifications: { console: "yes" }',
      'pagerduty: { webhook_secrets: "s" }',
      '',
    ].join('\n');
    const problems = lines(check(text).problems);
    expect(problems.length).toBeGreaterThan(10);
    for (const problem of problems) expect(problem).not.toMatch(/Invalid|received|undefined|NaN/);
    expect(problems).toContain('pipewarden.yaml:1:34: warehouses.a.url: expected a string, got a list');
    expect(problems.filter((problem) => problem.includes('warehouses.a.url:'))).toHaveLength(1);
    expect(problems).toContain('pipewarden.yaml:1:91: warehouses.a.connect_timeout: expected a duration like "1h", got 3');
  });

  it('reports problems in the order they appear in the file', () => {
    const text = 'logging: { level: loud }\nwarehouses: { a: { type: mysql, url: u } }\n';
    expect(check(text).problems.map((problem) => problem.location.line)).toEqual([1, 2]);
  });
});

describe('cross-field rules', () => {
  const base = 'warehouses:\n  analytics: { type: postgres, url: u }\n';

  it('requires owners and the default owner to exist', () => {
    const text = `${base}monitors:\n  - { assets: analytics.x, owner: ghost, schema: true }\nnotifications: { default_owner: nobody }\n`;
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:4:35: monitors[0].owner: unknown owner "ghost"; no owners are defined; add "ghost" under owners',
      'pipewarden.yaml:5:33: notifications.default_owner: unknown owner "nobody"; no owners are defined; add "nobody" under owners',
    ]);
  });

  it('requires warn_after to come before error_after', () => {
    const text = `${base}monitors:\n  - assets: analytics.x\n    freshness: { warn_after: 6h, error_after: 2h }\n`;
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:5:30: monitors[0].freshness.warn_after: warn_after (6h) must be shorter than error_after (2h); the warning comes before the failure',
    ]);
  });

  it('requires globs to name a warehouse when there are several', () => {
    const text = `${base}  billing: { type: postgres, url: u }\nmonitors:\n  - assets: [analytics.a.*, "*.public.orders", analytcs.public.*]\n    exclude: [public.tmp_*]\n    schema: true\n`;
    expect(lines(check(text).problems)).toEqual([
      'pipewarden.yaml:5:48: monitors[0].assets[2]: "analytcs.public.*" names no warehouse (a glob\'s first part is the warehouse name); did you mean "analytics.public.*"?',
      'pipewarden.yaml:6:15: monitors[0].exclude[0]: "public.tmp_*" names no warehouse (a glob\'s first part is the warehouse name); start it with one of: analytics, billing',
    ]);
  });

  it('runs alongside schema problems, so one pass shows everything', () => {
    const text = `${base}monitors:\n  - { assets: analytics.x, owner: ghost, volume: { column: c, bucket: 1x } }\n`;
    expect(check(text).problems.map((problem) => problem.path)).toEqual(['monitors[0].owner', 'monitors[0].volume.bucket']);
  });
});

describe('environment', () => {
  it('takes state.url from DATABASE_URL when the file sets none', () => {
    const { config } = check('warehouses: { a: { type: postgres, url: u } }\n', { DATABASE_URL: 'postgres://state' });
    expect(config?.state.url).toBe('postgres://state');
    expect(config?.state.schema).toBe('pipewarden');
  });

  it('keeps state.url from the file over DATABASE_URL', () => {
    const text = 'warehouses: { a: { type: postgres, url: u } }\nstate: { url: postgres://from-file, schema: pw }\n';
    const { config } = check(text, { DATABASE_URL: 'postgres://state' });
    expect(config?.state).toMatchObject({ url: 'postgres://from-file', schema: 'pw' });
  });

  it('leaves state.url unset without DATABASE_URL, so the embedded database is used', () => {
    const { config } = check('warehouses: { a: { type: postgres, url: u } }\n');
    expect(config?.state.url).toBeUndefined();
  });

  it('never puts an interpolated secret into a message', () => {
    const secret = 'R0uting-Key-0f-the-inventory-team';
    const text = [
      'warehouses: { a: { type: postgres, url: "${WAREHOUSE_URL}", statement_timeout: "${PD_KEY}" } }',
      'schedule: { sweep: "${PD_KEY}" }',
      'notifications: { grafana_url: "${PD_KEY}" }',
      'state: { schema: "${PD_KEY}" }',
      'owners: { "team": { pagerduty: 5 } }',
      '',
    ].join('\n');
    const { problems } = check(text, { PD_KEY: secret, WAREHOUSE_URL: WAREHOUSE });
    expect(problems.length).toBeGreaterThanOrEqual(4);
    for (const problem of problems) expect(formatProblem(problem)).not.toContain(secret);
    expect(formatProblem(problems[0] as never)).toBe('pipewarden.yaml:1:80: warehouses.a.statement_timeout: expected a duration like "1h", got "${PD_KEY}"');
    expect(lines(problems).join('\n')).toContain('schedule.sweep: expected a cron expression like "*/5 * * * *", got "${PD_KEY}"');
  });

  it('makes an unquoted ${PORT} a number, a quoted one a string', () => {
    const base = 'warehouses: { a: { type: postgres, url: u } }\n';
    expect(check(`${base}server:\n  port: \${PORT}\n`, { PORT: '8080' }).config?.server.port).toBe(8080);
    expect(lines(check(`${base}server:\n  port: "\${PORT}"\n`, { PORT: '8080' }).problems)).toEqual([
      'pipewarden.yaml:3:9: server.port: expected a number, got "${PORT}"',
    ]);
  });

  it('explains an unquoted ${VAR} inside { }, where YAML reads its braces as syntax', () => {
    const { problems } = check('warehouses:\n  analytics: { type: postgres, url: ${WAREHOUSE_URL} }\n', { WAREHOUSE_URL: 'u' });
    expect(lines(problems)[0]).toBe(
      'pipewarden.yaml:2:38: YAML syntax error: Unexpected flow-map-start at node end (inside { } or [ ], put ${VAR} references in quotes: "${VAR}")',
    );
    expect(problems.every((problem) => problem.location.line === 2)).toBe(true);
  });

  it('writes a file that loads from disk with its env', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipewarden-config-'));
    await writeFile(join(directory, 'pipewarden.yaml'), 'warehouses:\n  a: { type: postgres, url: "${A_URL:-postgres://localhost/a}" }\n');
    const loaded = await loadConfig(join(directory, 'pipewarden.yaml'), {});
    expect(loaded.config.warehouses.a?.url).toBe('postgres://localhost/a');
  });
});
