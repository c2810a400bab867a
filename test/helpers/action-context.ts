// An ActionContext for testing one action on its own: real state pool (or none), a config
// parsed by the real schema, a progress log the test can read. The executor builds the real
// one; this helper only saves each action test from assembling it by hand.

import type pg from 'pg';
import { configSchema } from '../../src/config/schema.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { ActionContext, ProgressReport, RunServices } from '../../src/runbooks/action.ts';
import type { WarehouseWriters } from '../../src/warehouse/warehouse-writer.ts';
import { testLogger } from './logger.ts';

export interface TestActionContext extends ActionContext {
  progress: ProgressReport[];
}

export interface TestActionContextOptions {
  config?: Partial<ConfigInput>;
  state?: pg.Pool;
  signal?: AbortSignal;
  writers?: WarehouseWriters;
  services?: Partial<RunServices>;
  overrides?: Partial<ActionContext>;
}

export function testActionContext(options: TestActionContextOptions = {}): TestActionContext {
  const config = configSchema.parse({ warehouses: { demo: { type: 'postgres', url: 'postgres://127.0.0.1:1/none' } }, ...options.config });
  const progress: ProgressReport[] = [];
  return {
    runId: '1',
    runbook: 'test-runbook',
    step: 'test-step',
    attempt: 1,
    stepStartedAt: new Date(),
    asset: { key: 'demo.public.orders', warehouse: 'demo', schema: 'public', table: 'orders' },
    signal: options.signal ?? new AbortController().signal,
    logger: testLogger(),
    config,
    state: options.state ?? (undefined as unknown as pg.Pool),
    now: () => new Date(),
    async reportProgress(report) {
      progress.push(report);
    },
    warehouseWriter(name) {
      if (!options.writers) throw new Error('this test gave the context no warehouse writers');
      return options.writers.writer(name);
    },
    services: { ...unavailableServices(), ...options.services },
    progress,
    ...options.overrides,
  };
}

/** Services a test did not ask for fail loudly instead of doing nothing. */
function unavailableServices(): RunServices {
  const missing = (name: string) => async (): Promise<never> => {
    throw new Error(`this test gave the context no ${name} service`);
  };
  return { evaluateChecks: missing('evaluateChecks'), announce: missing('announce'), showProgress: missing('showProgress'), resolveIncident: missing('resolveIncident'), silence: missing('silence'), approval: missing('approval') };
}
