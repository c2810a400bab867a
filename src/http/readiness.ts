// Readiness: can this replica do its work right now? It can when the state database answers and
// every warehouse answers a ping. Each dependency is probed in parallel with its own timeout, so
// one hung warehouse makes the answer "not ready, because of X" quickly instead of hanging the
// probe. The results also feed the `*_up` gauges, so a dashboard sees what Kubernetes sees.

import type pg from 'pg';
import { errorMessage, PipewardenError, StateError, WarehouseError } from '../errors.ts';
import { scrubText } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';

export interface DependencyStatus {
  status: 'up' | 'down';
  /** Stable error code when down, e.g. `warehouse_unreachable`. */
  code?: string;
  message?: string;
  duration_ms: number;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  state_db: DependencyStatus;
  warehouses: Record<string, DependencyStatus>;
}

export interface ReadinessDependencies {
  state: pg.Pool;
  warehouses: ReadonlyMap<string, Warehouse>;
  metrics: Metrics;
  /** Per-dependency timeout. */
  timeoutMs: number;
}

export async function selectOne(client: pg.Pool | pg.PoolClient): Promise<void> {
  await client.query('select 1');
}

async function probe(check: () => Promise<void>, timeoutMs: number, onTimeout: () => PipewardenError, describe: (error: unknown) => PipewardenError): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return { status: 'up', duration_ms: Math.round(performance.now() - started) };
  } catch (error) {
    const typed = error instanceof PipewardenError ? error : describe(error);
    return { status: 'down', code: typed.code, message: scrubText(typed.message), duration_ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

function probeStateDatabase(dependencies: ReadinessDependencies): Promise<DependencyStatus> {
  return probe(
    () => selectOne(dependencies.state),
    dependencies.timeoutMs,
    () => new StateError('state_timeout', `The state database did not answer within ${dependencies.timeoutMs} ms.`),
    (error) => new StateError('state_unreachable', `The state database did not answer: ${errorMessage(error)}`, { cause: error }),
  );
}

function probeWarehouse(warehouse: Warehouse, timeoutMs: number): Promise<DependencyStatus> {
  return probe(
    () => warehouse.ping(),
    timeoutMs,
    () => new WarehouseError('warehouse_timeout', warehouse.name, `Warehouse ${warehouse.name} did not answer a ping within ${timeoutMs} ms.`),
    (error) => new WarehouseError('warehouse_unreachable', warehouse.name, `Warehouse ${warehouse.name} did not answer: ${errorMessage(error)}`, { cause: error }),
  );
}

export async function checkReadiness(dependencies: ReadinessDependencies): Promise<ReadinessReport> {
  const names = [...dependencies.warehouses.keys()];
  const [stateDb, ...warehouseStatuses] = await Promise.all([
    probeStateDatabase(dependencies),
    ...names.map((name) => probeWarehouse(dependencies.warehouses.get(name) as Warehouse, dependencies.timeoutMs)),
  ]);
  const state = stateDb as DependencyStatus;
  dependencies.metrics.stateDbUp.set(state.status === 'up' ? 1 : 0);
  const warehouses: Record<string, DependencyStatus> = {};
  names.forEach((name, index) => {
    const status = warehouseStatuses[index] as DependencyStatus;
    warehouses[name] = status;
    dependencies.metrics.warehouseUp.set({ warehouse: name }, status.status === 'up' ? 1 : 0);
  });
  const ready = state.status === 'up' && Object.values(warehouses).every((status) => status.status === 'up');
  return { status: ready ? 'ready' : 'not_ready', state_db: state, warehouses };
}

/**
 * Wraps `checkReadiness` so concurrent /readyz calls share one probe in flight: a probe storm
 * against a hung warehouse must not queue connections on someone's production database.
 */
export function sharedReadinessCheck(dependencies: ReadinessDependencies): () => Promise<ReadinessReport> {
  let inFlight: Promise<ReadinessReport> | undefined;
  return () => {
    inFlight ??= checkReadiness(dependencies).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
