// The Grafana dashboards in dashboards/: valid against Grafana's dashboard JSON schema, wired to
// the provisioned Prometheus through the `datasource` variable, and reading only metrics and
// labels a real pipewarden daemon exports (its live /metrics after a first sweep and profile,
// plus every name its registry defines: labelled metrics have no series until first observed).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startDaemon, type RunningDaemon } from '../../src/main.ts';
import { daemonConfig } from '../daemon/daemon-config.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase, createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { dashboardQueries, dataPanels, DASHBOARDS_DIR, panelLabel, readDashboardFiles, type Dashboard, type DashboardFile } from './dashboard-files.ts';
import { exportedMetrics, scrapedNames, type ExportedMetrics } from './exported-metrics.ts';
import { readPromqlReferences } from './promql-references.ts';
import { findQueryProblems } from './query-problems.ts';
import { scrapeAfterFirstJobs } from '../helpers/scrape-after-first-jobs.ts';

const SCHEMA_FILE = path.join(import.meta.dirname, '../fixtures/grafana/dashboard.jsonschema.json');
const PANEL_DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
// Where the compose stack mounts ./dashboards and ./dashboards/provisioning in the Grafana container.
const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/pipewarden';
const DATASOURCE_UID = 'pipewarden-prometheus';

type JsonSchema = { definitions: Record<string, { properties: Record<string, unknown> }> } & Record<string, unknown>;

// The schema is generated from Grafana's CUE, where an override's `value` and a matcher's
// `options` are `_` (anything); the generator wrote them as "an object". Grafana itself stores
// strings, numbers and arrays there (`{ "id": "unit", "value": "s" }`, `byName` matchers with the
// field name), so these two, and only these, are widened back to anything.
const GENERATED_AS_OBJECT = { type: 'object', additionalProperties: {} };
const WIDENED = [
  ['DynamicConfigValue', 'value'],
  ['MatcherConfig', 'options'],
] as const;

function readSchema(): JsonSchema {
  return JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
}

function compileDashboardSchema(): ValidateFunction {
  const schema = readSchema();
  for (const [definition, property] of WIDENED) schema.definitions[definition]!.properties[property] = {};
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

function schemaErrors(validate: ValidateFunction, file: string, dashboard: unknown): string[] {
  if (validate(dashboard)) return [];
  return (validate.errors ?? []).map((error) => `${file}${error.instancePath || '/'}: ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
}

function allQueryProblems(files: DashboardFile[], exported: ExportedMetrics): string[] {
  return files.flatMap((file) => dashboardQueries(file).flatMap((query) => findQueryProblems(query, exported)));
}

const files = readDashboardFiles();

describe('the dashboards against Grafana\'s dashboard schema', () => {
  const validate = compileDashboardSchema();

  it('are the four the README describes', () => {
    expect(files.map((file) => file.file)).toEqual(['asset-detail.json', 'overview.json', 'pipewarden.json', 'runbooks.json']);
  });

  it('each validate', () => {
    expect(files.flatMap(({ file, dashboard }) => schemaErrors(validate, file, dashboard))).toEqual([]);
  });

  it('widen only what the generated schema still narrows to objects (drop the widening once upstream fixes it)', () => {
    const schema = readSchema();
    for (const [definition, property] of WIDENED) expect(schema.definitions[definition]!.properties[property]).toMatchObject(GENERATED_AS_OBJECT);
  });

  it('reject a dashboard with a broken structure', () => {
    const overview = structuredClone(files.find((file) => file.file === 'overview.json')!.dashboard) as Dashboard & Record<string, unknown>;
    const noTemplating = { ...overview, templating: undefined };
    delete noTemplating.templating;
    expect(schemaErrors(validate, 'overview.json', noTemplating).join('\n')).toContain("must have required property 'templating'");

    const tooWide = structuredClone(overview);
    (tooWide.panels![1] as unknown as { gridPos: { w: number } }).gridPos.w = 30;
    expect(schemaErrors(validate, 'overview.json', tooWide).join('\n')).toContain('/panels/1/gridPos/w');

    const unknownProperty = structuredClone(overview);
    (unknownProperty.panels![1] as unknown as Record<string, unknown>).query = 'pipewarden_outbox_depth';
    expect(schemaErrors(validate, 'overview.json', unknownProperty).join('\n')).toContain('must NOT have additional properties');
  });

  it('declare the schema version the schema expects', () => {
    const expected = (readSchema().definitions.Dashboard!.properties.schemaVersion as { default: number }).default;
    for (const { file, dashboard } of files) expect(dashboard.schemaVersion, file).toBe(expected);
  });
});

describe('each dashboard', () => {
  it('has its own stable uid, a title and the pipewarden tag', () => {
    const uids = files.map(({ dashboard }) => dashboard.uid);
    expect(new Set(uids).size).toBe(files.length);
    for (const { file, dashboard } of files) {
      expect(dashboard.uid, file).toMatch(/^pipewarden-[a-z-]+$/);
      expect(dashboard.uid!.length, file).toBeLessThanOrEqual(40);
      expect(dashboard.title, file).toMatch(/^pipewarden \/ /);
      expect(dashboard.tags, file).toContain('pipewarden');
      expect(dashboard.links, file).toContainEqual(expect.objectContaining({ type: 'dashboards', tags: ['pipewarden'] }));
    }
  });

  it('has a `datasource` variable choosing among Prometheus data sources', () => {
    for (const { file, dashboard } of files) {
      expect(dashboard.templating?.list, file).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }));
    }
  });

  it('reads every panel and target through that variable, with an expression and a description', () => {
    const problems: string[] = [];
    for (const { file, dashboard } of files) {
      const ids = new Set<number>();
      for (const panel of dashboard.panels ?? []) {
        if (panel.id === undefined || ids.has(panel.id)) problems.push(`${panelLabel(file, panel)}: missing or repeated id`);
        ids.add(panel.id ?? -1);
      }
      for (const panel of dataPanels(dashboard)) {
        const where = panelLabel(file, panel);
        if (JSON.stringify(panel.datasource) !== JSON.stringify(PANEL_DATASOURCE)) problems.push(`${where}: datasource is ${JSON.stringify(panel.datasource)}`);
        if (!panel.description || panel.description.length < 20) problems.push(`${where}: no description saying what question it answers`);
        if (!panel.targets?.length) problems.push(`${where}: no targets`);
        for (const target of panel.targets ?? []) {
          if (typeof target.expr !== 'string' || target.expr.trim() === '') problems.push(`${where} target ${String(target.refId)}: no expr`);
          if (JSON.stringify(target.datasource) !== JSON.stringify(PANEL_DATASOURCE)) problems.push(`${where} target ${String(target.refId)}: datasource is ${JSON.stringify(target.datasource)}`);
        }
      }
      for (const variable of dashboard.templating?.list ?? []) {
        if (variable.type === 'query' && JSON.stringify(variable.datasource) !== JSON.stringify(PANEL_DATASOURCE)) problems.push(`${file} variable ${variable.name}: datasource is ${JSON.stringify(variable.datasource)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows durations in seconds and ratios as percentages', () => {
    const problems: string[] = [];
    for (const { file, dashboard } of files) {
      for (const panel of dataPanels(dashboard)) {
        const exprs = (panel.targets ?? []).map((target) => String(target.expr));
        const unit = panel.fieldConfig?.defaults?.unit;
        if (exprs.every((expr) => /_seconds(_bucket|_sum)?\b/.test(expr) && !/_timestamp_seconds/.test(expr) && !/_cpu_/.test(expr)) && unit !== 's') problems.push(`${panelLabel(file, panel)}: unit ${unit}, expected s`);
        if (exprs.every((expr) => /_ratio\b/.test(expr)) && unit !== 'percentunit') problems.push(`${panelLabel(file, panel)}: unit ${unit}, expected percentunit`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('links between the dashboards', () => {
  const byFile = new Map(files.map(({ file, dashboard }) => [file, dashboard]));

  it('asset detail has an `asset` variable over the assets with per-asset series', () => {
    expect(byFile.get('asset-detail.json')?.templating?.list).toContainEqual(
      expect.objectContaining({ type: 'query', name: 'asset', query: 'label_values(pipewarden_check_status, asset)' }),
    );
  });

  it('the overview\'s worst-assets table opens asset detail for the clicked asset', () => {
    const assetDetailUid = byFile.get('asset-detail.json')!.uid!;
    const table = dataPanels(byFile.get('overview.json')!).find((panel) => panel.title === 'Worst assets');
    const urls = (table?.fieldConfig?.overrides ?? []).flatMap((override) => override.properties.filter((property) => property.id === 'links').flatMap((property) => property.value as { url: string }[]));
    expect(urls).toContainEqual(expect.objectContaining({ url: expect.stringContaining(`/d/${assetDetailUid}/`) }));
    expect(urls.map((link) => link.url).join(' ')).toContain('var-asset=${__data.fields.asset}');
  });
});

describe('the provisioning files', () => {
  const read = (file: string) => parse(readFileSync(path.join(DASHBOARDS_DIR, 'provisioning', file), 'utf8')) as Record<string, unknown>;

  it('load the dashboards from where the compose stack mounts dashboards/, into the pipewarden folder', () => {
    const provider = read('dashboards/pipewarden.yaml') as { apiVersion: number; providers: { type: string; folder: string; options: { path: string } }[] };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toEqual([expect.objectContaining({ type: 'file', folder: 'pipewarden', options: expect.objectContaining({ path: GRAFANA_DASHBOARDS_PATH }) })]);
  });

  it('provide the default Prometheus data source the dashboards\' variable selects', () => {
    const datasources = read('datasources/prometheus.yaml') as { apiVersion: number; datasources: Record<string, unknown>[] };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: DATASOURCE_UID, type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
  });
});

describe('the queries against a live pipewarden', () => {
  let state: TestDatabase;
  let warehouse: TestDatabase;
  let daemon: RunningDaemon | undefined;
  let scrape: string;
  let exported: ExportedMetrics;

  beforeAll(async () => {
    [state, warehouse] = await Promise.all([createTestDatabase(), createBlankDatabase()]);
    await warehouse.pool().query(`create table public.orders (id int, loaded_at timestamptz);
      insert into public.orders select g, now() - g * interval '1 hour' from generate_series(1, 200) g`);
    const config = daemonConfig(state.url, { analytics: warehouse.url }, {
      monitors: [{ assets: ['analytics.public.*'], freshness: { column: 'loaded_at', warn_after: '30m', error_after: '1h' }, volume: { column: 'loaded_at', bucket: '1h' } }],
    });
    daemon = await startDaemon({ config, env: {}, logger: testLogger() });
    scrape = await scrapeAfterFirstJobs(daemon.httpUrl);
    exported = await exportedMetrics(daemon.metrics, scrape);
  });

  afterAll(async () => {
    await daemon?.stop('test finished');
    await Promise.all([state?.drop(), warehouse?.drop()]);
  });

  it('the scrape serves the per-asset series the asset dashboards read', () => {
    const served = scrapedNames(scrape);
    for (const name of ['pipewarden_check_status', 'pipewarden_asset_freshness_seconds', 'pipewarden_asset_freshness_lateness_seconds', 'pipewarden_job_runs_total', 'pipewarden_process_cpu_seconds_total']) {
      expect(served, name).toContain(name);
    }
  });

  it('every expression parses and reads only metrics and labels pipewarden exports', () => {
    expect(allQueryProblems(files, exported)).toEqual([]);
  });

  it('every metric pipewarden defines is on some dashboard, or deliberately left off', () => {
    const read = new Set(files.flatMap((file) => dashboardQueries(file)).flatMap((query) => familiesRead(query.expr)));
    // Runtime details a person rarely needs on a dashboard; the raw scrape still has them.
    const leftOff = /^pipewarden_(nodejs_(?!heap_size_used_bytes|eventloop_lag_p99_seconds)|process_(?!resident_memory_bytes|cpu_seconds_total))/;
    const unused = new Set([...exported.names].map(family).filter((name) => name.startsWith('pipewarden_') && !read.has(name) && !leftOff.test(name)));
    expect([...unused]).toEqual([]);
  });

  it('catches a misspelled metric, a missing one, `job` for `exported_job`, an unknown label and bad syntax', () => {
    const broken = structuredClone(files.find((file) => file.file === 'runbooks.json')!);
    const targets = dataPanels(broken.dashboard).flatMap((panel) => panel.targets ?? []);
    targets[0]!.expr = 'sum(pipewarden_runbook_run_total)';
    targets[1]!.expr = 'sum by (job) (rate(pipewarden_job_runs_total[$__rate_interval]))';
    targets[2]!.expr = 'max by (warehouse) (pipewarden_outbox_depth{channel="slack"})';
    targets[3]!.expr = 'rate(pipewarden_pages_total[$range])';
    targets[4]!.expr = 'sum({__name__="pipewarden_outbox_dept"})';
    const problems = allQueryProblems([broken], exported).join('\n');
    expect(problems).toContain('pipewarden_runbook_run_total is not a metric pipewarden exports');
    expect(problems).toContain("pipewarden's own job label is stored as `exported_job`");
    expect(problems).toContain('label `channel` is not a label of pipewarden_outbox_depth');
    expect(problems).toContain('label `warehouse` is not a label of pipewarden_outbox_depth');
    expect(problems).toContain('PromQL does not parse');
    expect(problems).toContain('pipewarden_outbox_dept is not a metric pipewarden exports');
  });
});

/** The metric families an expression reads (a histogram's _bucket, _sum and _count count as it). */
function familiesRead(expr: string): string[] {
  return readPromqlReferences(expr).selectors.flatMap((selector) => (selector.metric === undefined ? [] : [family(selector.metric)]));
}

function family(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

