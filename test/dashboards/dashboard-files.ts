// Reads the Grafana dashboards in dashboards/ and the queries in them, for the dashboard tests.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const DASHBOARDS_DIR = path.join(import.meta.dirname, '../../dashboards');

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

// Only the parts the tests read; the schema test checks the whole of it.
export interface Dashboard {
  uid?: string;
  title?: string;
  tags?: string[];
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  links?: { type?: string; tags?: string[] }[];
}

export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Record<string, unknown>[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string; links?: { url?: string }[] }; overrides?: { properties: { id: string; value?: unknown }[] }[] };
}

export interface Variable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardQuery {
  /** Where it is: `overview.json panel 3 "Open incidents" target B`, for failure messages. */
  where: string;
  expr: string;
}

/** Every dashboards/*.json, parsed, sorted by file name. A file that is not JSON throws naming it. */
export function readDashboardFiles(dir = DASHBOARDS_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      try {
        return { file, dashboard: JSON.parse(text) as Dashboard };
      } catch (error) {
        throw new Error(`dashboards/${file} is not valid JSON (${(error as Error).message}); fix it or export it again from Grafana`, { cause: error });
      }
    });
}

/** Panels that show data (rows left out, the panels inside rows included). */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

export function panelLabel(file: string, panel: Panel): string {
  return `${file} panel ${panel.id ?? '?'} "${panel.title ?? ''}"`;
}

/** Every PromQL expression: panel targets, and the metric selector inside label_values() variables. */
export function dashboardQueries({ file, dashboard }: DashboardFile): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of dataPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      queries.push({ where: `${panelLabel(file, panel)} target ${String(target.refId)}`, expr: String(target.expr ?? '') });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = String(variable.query ?? '');
    // Grafana's label_values(selector, label) is not PromQL; its selector is.
    const labelValues = /^label_values\((.+),\s*[a-zA-Z_]\w*\)$/.exec(query);
    queries.push({ where: `${file} variable ${variable.name}`, expr: labelValues?.[1] ?? query });
  }
  return queries;
}
