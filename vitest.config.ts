import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // One embedded PostgreSQL for the whole run; each test file clones its own database from a
    // migrated template (see test/helpers/postgres.ts).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    hookTimeout: 60_000,
    testTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
