// A config for the running demo that other commands can use: `pipewarden incidents --config
// <data-dir>/pipewarden.yaml` (and silences, check…) reach the demo's warehouse and state database.
// It is the demo's own config with the URLs filled in, so it holds the embedded server's
// password: written 0600 beside credentials.json, which holds the same.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { DEMO_CONFIG_PATH } from './demo-environment.ts';

/** examples/demo/pipewarden.yaml's `runbooks.vars`, by the environment variable each reads. */
const DEMO_RUNBOOK_VARS = { node: 'DEMO_NODE', pipewarden: 'DEMO_PIPEWARDEN', demo_dir: 'DEMO_DATA_DIR', demo_port: 'DEMO_POSTGRES_PORT' } as const;

export const DEMO_CLI_CONFIG_NAME = 'pipewarden.yaml';

export async function writeDemoCliConfig(dataDir: string, urls: { warehouse: string; state: string }, env: Record<string, string | undefined> = {}): Promise<string> {
  const document = parseDocument(await readFile(DEMO_CONFIG_PATH, 'utf8'));
  document.setIn(['warehouses', 'marketplace', 'url'], urls.warehouse);
  document.setIn(['warehouses', 'marketplace', 'write_url'], urls.warehouse);
  // `${DEMO_…}` in the runbook vars, filled in: commands run with this file have no demo environment.
  const vars = document.getIn(['runbooks', 'vars']);
  if (vars !== undefined && vars !== null) {
    for (const [name, variable] of Object.entries(DEMO_RUNBOOK_VARS)) {
      const value = env[variable];
      if (value !== undefined) document.setIn(['runbooks', 'vars', name], value);
    }
  }
  document.setIn(['state'], document.createNode({ url: urls.state }));
  // Relative paths in the original are relative to examples/demo/, not to the data folder.
  const folder = document.getIn(['runbooks', 'folder']);
  if (typeof folder === 'string') document.setIn(['runbooks', 'folder'], path.resolve(path.dirname(DEMO_CONFIG_PATH), folder));
  const target = path.join(dataDir, DEMO_CLI_CONFIG_NAME);
  const header = '# Written by `pipewarden demo` for the running demo: use it with --config to reach its databases.\n';
  await writeFile(target, header + document.toString(), { mode: 0o600 });
  return target;
}
