// pipewarden's real collect → detect path, driven at a simulated `now`: the metadata sweep
// (runSweep: catalog snapshot, freshness, schema) and the profile tick (runProfile: volume and
// distribution from table profiles, history measured on the first run) exactly as the daemon
// runs them, against the scenario warehouse and a state database on the benchmark's server.
// What counts as an alarm: a `fail` finding, the status that pages (and that `check` exits 1
// on). A `warn` is shown to people but pages no one, so it is not counted; the warnings are kept
// apart so `--explain` can show what pipewarden saw of an incident it did not page for.

import type pg from 'pg';
import { runProfile } from '../../src/collect/profile.ts';
import { runSweep, type SweepContext } from '../../src/collect/sweep.ts';
import { configSchema, type Config } from '../../src/config/schema.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Finding } from '../../src/types.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import { benchLogger } from '../lib/bench-postgres.ts';
import { SCENARIO_SCHEMA } from './load-scenario.ts';
import type { Alert } from './score-detections.ts';

const WAREHOUSE = 'bench';

export interface PipewardenPath {
  /** Runs the jobs as the daemon would at `now`; returns the alerts they raised. */
  evaluate(now: Date): Promise<Alert[]>;
  /** Every `warn` finding so far, as alerts that did not page. */
  readonly warnings: Alert[];
  close(): Promise<void>;
}

/** The monitor a user would write for these tables: every check, default settings. */
export function scenarioConfig(warehouseUrl: string, stateUrl: string): Config {
  return configSchema.parse({
    warehouses: { [WAREHOUSE]: { type: 'postgres', url: warehouseUrl, max_connections: 4 } },
    state: { url: stateUrl },
    monitors: [
      {
        assets: `${WAREHOUSE}.${SCENARIO_SCHEMA}.*`,
        freshness: { column: 'loaded_at' },
        volume: { column: 'loaded_at', bucket: '1h' },
        distribution: { column: 'loaded_at', bucket: '1d', columns: ['status', 'amount'] },
        schema: true,
      },
    ],
  });
}

export function createPipewardenPath(warehouseUrl: string, stateUrl: string, state: pg.Pool): PipewardenPath {
  const config = scenarioConfig(warehouseUrl, stateUrl);
  const warehouse = createPostgresWarehouse(WAREHOUSE, config.warehouses[WAREHOUSE]!, benchLogger());
  let now = new Date(0);
  const context: SweepContext = {
    config,
    warehouses: new Map([[WAREHOUSE, warehouse]]),
    state,
    logger: benchLogger(),
    metrics: new Metrics({ processMetrics: false }),
    now: () => now,
  };
  const signal = new AbortController().signal;
  async function runJobs(): Promise<Finding[]> {
    const sweep = await runSweep(context, signal);
    const profile = await runProfile(context, signal);
    return [...sweep.findings, ...profile.findings];
  }
  const warnings: Alert[] = [];
  const alertOf = (finding: Finding, at: Date): Alert => ({ table: tableOf(finding.asset), check: finding.check, at, finding });
  return {
    async evaluate(at) {
      now = at;
      const findings = await runJobs();
      warnings.push(...findings.filter((finding) => finding.status === 'warn').map((finding) => alertOf(finding, at)));
      return findings.filter((finding) => finding.status === 'fail').map((finding) => alertOf(finding, at));
    },
    warnings,
    close: () => warehouse.close(),
  };
}

/** `bench.scenario.t_0001` → `t_0001`. */
function tableOf(asset: string): string {
  return asset.slice(asset.lastIndexOf('.') + 1);
}
