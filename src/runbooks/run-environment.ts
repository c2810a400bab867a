// What executing a run needs from the rest of pipewarden, passed in by the composition root so
// the executor stays testable on a real state database without a daemon around it.

import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { RunRow } from '../store/runbook-runs.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { WarehouseWriters } from '../warehouse/warehouse-writer.ts';
import type { RunbookAction, RunServices } from './action.ts';
import type { LoadedRunbook } from './loaded-runbook.ts';
import type { ActionName } from './runbook-schema.ts';

export interface RunEnvironment {
  pool: pg.Pool;
  config: Config;
  logger: Logger;
  metrics?: Metrics | undefined;
  now(): Date;
  actions: ReadonlyMap<ActionName, RunbookAction<unknown>>;
  writers: WarehouseWriters;
  /** The runbook as the run recorded it (its own copy of the file's text), compiled. */
  compile(run: RunRow): LoadedRunbook;
  /**
   * Tells people the run could not recover: pages the incident's owner with the run's record.
   * Called at most once per run, after its final state is stored.
   */
  escalate(run: RunRow, reason: string): Promise<void>;
  /** pipewarden's machinery as this run's actions see it (its incident, its asset). */
  services(run: RunRow): RunServices;
  /** Called after a run's final state is stored (escalated or not). */
  finished?(run: RunRow, status: RunRow['status'], outcome: string): Promise<void>;
  random?: () => number;
}
