import { defineConfig } from 'vitest/config';
import { selectedModule } from './test/mutation/modules.mjs';

/**
 * The unit tests Stryker runs against one module's mutants (`npm run test:mutation`). Only
 * the tests that guard the module: no e2e, no chaos, nothing that spawns a process.
 */
const module = selectedModule();

export default defineConfig({
  test: {
    include: [...module.tests],
    exclude: ['test/chaos/**', 'test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
