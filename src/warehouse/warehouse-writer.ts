// The write side of a warehouse, used only by runbook steps (`sql`, `publish`, `rollback`):
// a separate port from the read-only Warehouse so that watching can never write, and so a
// deployment can give runbooks a different, more privileged role (`warehouses.*.write_url`).

import type pg from 'pg';

export interface WarehouseWriter {
  /**
   * Runs `work` in one transaction on the warehouse's write connection: committed when it
   * resolves, rolled back when it throws or `signal` aborts (the connection is then discarded,
   * which also cancels a statement still running on the server).
   */
  transaction<T>(work: (client: pg.ClientBase) => Promise<T>, signal: AbortSignal): Promise<T>;
}

export interface WarehouseWriters {
  /** The writer for a configured warehouse; throws a RunbookError naming what to configure when it has no `write_url`. */
  writer(warehouse: string): WarehouseWriter;
  close(): Promise<void>;
}
