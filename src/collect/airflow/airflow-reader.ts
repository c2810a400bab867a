// The I/O half of the Airflow check: one read-only snapshot of a metadata database, as plain rows.
// The pool is the warehouse one (createReadPool): every session is read-only, time-limited and in
// UTC from its startup packet, so nothing here can write to someone's Airflow even by mistake.
// The reads run in one REPEATABLE READ READ ONLY transaction, so a run and its task instances
// are seen as of the same moment while the scheduler keeps writing.

import type pg from 'pg';
import type { Logger } from 'pino';
import { PipewardenError, WarehouseError } from '../../errors.ts';
import type { WarehouseErrorCode } from '../../errors.ts';
import { assetMatcher } from '../../config/asset-globs.ts';
import { redactUrl, toWarehouseError } from '../../warehouse/postgres-errors.ts';
import { createReadPool, inReadOnlySnapshot, withReadSession } from '../../warehouse/postgres-session.ts';
import type { StatementClient } from '../../warehouse/postgres-session.ts';
import type { AirflowSourceConfig } from './airflow-config.ts';
import { detectAirflowLayout } from './airflow-layout.ts';
import type { AirflowLayout } from './airflow-layout.ts';
import {
  selectAirflowDags,
  selectNewestRuns,
  selectQueuedRuns,
  selectRunTaskInstances,
  selectSuccessfulDurations,
} from './airflow-queries.ts';
import type { AirflowSnapshot } from './airflow-rows.ts';

// Undefined table or column: Airflow was upgraded (or downgraded) under us; detect again.
const LAYOUT_CHANGED = new Set(['42P01', '42703']);

/** A pool on the Airflow database whose every session is read-only (exported for the tests). */
export function openAirflowPool(source: AirflowSourceConfig, logger: Logger): pg.Pool {
  return createReadPool({
    url: source.url,
    maxConnections: 1,
    statementTimeoutMs: source.statement_timeout,
    connectTimeoutMs: source.connect_timeout,
    logger,
  });
}

export class AirflowReader {
  readonly source: AirflowSourceConfig;
  readonly #logger: Logger;
  readonly #pool: pg.Pool;
  readonly #selects: (dagId: string) => boolean;
  #layout: AirflowLayout | undefined;

  constructor(source: AirflowSourceConfig, logger: Logger) {
    this.source = source;
    this.#logger = logger.child({ airflow: source.name });
    this.#pool = openAirflowPool(source, this.#logger);
    const included = assetMatcher(source.dags);
    const excluded = assetMatcher(source.exclude);
    this.#selects = (dagId) => included(dagId) && !excluded(dagId);
  }

  /** Reads the selected DAGs' runs as of one moment; `now` only sets the lookback window. */
  async read(now: Date): Promise<AirflowSnapshot> {
    try {
      return await withReadSession(this.#pool, { logger: this.#logger }, (client) => this.#readSnapshot(client, now));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && LAYOUT_CHANGED.has(code)) this.#layout = undefined;
      throw this.#describe(error);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #readSnapshot(client: StatementClient, now: Date): Promise<AirflowSnapshot> {
    this.#layout ??= await detectAirflowLayout(client, this.source.name, this.source.schema);
    const layout = this.#layout;
    return inReadOnlySnapshot(client, async () => {
      const dags = (await selectAirflowDags(client, layout)).filter((dag) => this.#selects(dag.dag_id));
      const dagIds = dags.map((dag) => dag.dag_id);
      const since = new Date(now.getTime() - this.source.lookback);
      const newestRuns = await selectNewestRuns(client, layout, dagIds, since);
      const taskInstances = await selectRunTaskInstances(client, layout, newestRuns);
      const durations = await selectSuccessfulDurations(client, layout, dagIds, this.source.long_run.history + 1);
      const queuedRuns = await selectQueuedRuns(client, layout, dagIds);
      this.#logger.debug({ dags: dags.length, runs: newestRuns.length, version: layout.version }, 'read the Airflow metadata database');
      return { version: layout.version, dags, newestRuns, taskInstances, durations, queuedRuns };
    });
  }

  #describe(error: unknown): PipewardenError {
    if (error instanceof PipewardenError) return error;
    const where = `airflow source "${this.source.name}"`;
    const described = toWarehouseError(error, { warehouse: this.source.name, redactedUrl: redactUrl(this.source.url) });
    const detail = error instanceof Error ? error.message : String(error);
    const hint: Record<WarehouseErrorCode, string> = {
      warehouse_unreachable: `Cannot reach ${where} at ${redactUrl(this.source.url)} (${detail}). Check the host and port in airflow[].url and that the network allows the connection.`,
      warehouse_auth: `The ${where} refused the login (${detail}). Check the user and password in airflow[].url.`,
      warehouse_timeout: `The ${where} cancelled a read that ran past airflow[].statement_timeout (${detail}). Raise it, or shorten airflow[].lookback.`,
      warehouse_missing_object: `The ${where} no longer has a table or column pipewarden reads (${detail}); Airflow may have been upgraded. The schema is detected again on the next read.`,
      warehouse_query: `The ${where} rejected a read (${detail}). Grant the role SELECT on dag, dag_run and task_instance; if it has it, this is a pipewarden bug worth reporting.`,
    };
    const code = described.code as WarehouseErrorCode;
    return new WarehouseError(code, `airflow:${this.source.name}`, hint[code], { cause: error });
  }
}
