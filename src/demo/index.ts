// The demo marketplace's public surface, for the `pipewarden demo` command.

export { demoConfigPath, DEMO_WAREHOUSE_URL_VARIABLE } from './demo-config-path.ts';
export {
  breakDemoFeed,
  repairDemoFeed,
  parseDemoFailureName,
  isDemoFailureName,
  DEMO_FAILURES,
  DEMO_FAILURE_NAMES,
  type DemoFailureName,
  type FeedChange,
  type FeedState,
} from './demo-feeds.ts';
export { DemoLoader, type DemoLoaderDeps, type InventoryLoad, type TickSummary } from './demo-loader.ts';
export { DEMO_SHAPE, DEMO_TIMING, DEFAULT_DEMO_DAYS, DEFAULT_DEMO_SEED } from './demo-shape.ts';
export { seedDemoWarehouse, type SeedOptions, type SeedSummary } from './seed-demo-warehouse.ts';
