// pipewarden_warehouse_statements_total: every statement a warehouse adapter sends, labelled with
// the job that caused it. The adapter is shared by every job (and a sweep and a profile may
// overlap on one warehouse), so the job cannot be a property of the adapter or a before/after
// difference of a counter: it travels with the async call chain instead. The label set stays
// bounded: the jobs that declare themselves, and `other` (readiness probes, check, runbooks).

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metrics } from '../telemetry/metrics.ts';

export type WarehouseJob = 'sweep' | 'profile';

const currentJob = new AsyncLocalStorage<WarehouseJob>();

/** Runs `work` so that the warehouse statements it issues are counted under `job`. */
export function withWarehouseJob<T>(job: WarehouseJob, work: () => Promise<T>): Promise<T> {
  return currentJob.run(job, work);
}

/** An `onStatement` hook for a warehouse adapter that counts each statement in the metrics. */
export function countWarehouseStatements(metrics: Pick<Metrics, 'warehouseStatements'>, warehouse: string): (sql: string) => void {
  return () => metrics.warehouseStatements.inc({ warehouse, job: currentJob.getStore() ?? 'other' });
}
