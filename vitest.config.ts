import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Long chaos runs are `npm run test:chaos`, never part of `npm test`.
    exclude: ['test/chaos/**', 'node_modules/**'],
    // Integration tests start real processes on a loaded 2-core machine; they wait for
    // conditions with deadlines of their own, this is only the outer bound.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
