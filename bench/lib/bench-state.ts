// A migrated pipewarden state database on the benchmark's server, so benchmarks run the real
// sweep and profile paths (which write table_state, observations and findings) end to end.

import type pg from 'pg';
import { migrate } from '../../src/store/migrate.ts';
import { createStatePool } from '../../src/store/state-database.ts';
import { benchLogger, type BenchPostgres } from './bench-postgres.ts';

export const STATE_SCHEMA = 'pipewarden';

export interface BenchState {
  url: string;
  pool: pg.Pool;
}

export async function createBenchState(server: BenchPostgres, database: string): Promise<BenchState> {
  const url = await server.createDatabase(database);
  const pool = createStatePool(url, STATE_SCHEMA, 4, benchLogger());
  await migrate(pool, { schema: STATE_SCHEMA, logger: benchLogger() });
  return { url, pool };
}
