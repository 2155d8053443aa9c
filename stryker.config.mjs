// @ts-check
import { selectedModule } from './test/mutation/modules.mjs';

/**
 * StrykerJS for one module of test/mutation/modules.mjs, chosen by QRGATE_MUTATION_MODULE;
 * `npm run test:mutation` (test/mutation/run.mjs) runs them one after the other.
 */
const module = selectedModule();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: module.mutate,
  // Only the tests that cover a mutant run against it.
  coverageAnalysis: 'perTest',
  // Two cores, shared: two sandboxes at once keep the machine usable.
  concurrency: 2,
  // A mutant that turns a loop endless or leaves a worker unanswered is cut after its tests'
  // own time twice over plus this; each cut costs a vitest restart, so it is kept short.
  timeoutMS: 2_000,
  timeoutFactor: 1.5,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${module.name}.json` },
  htmlReporter: { fileName: `reports/mutation/${module.name}.html` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The score is reported, not enforced here: the table in docs/testing.md is the record.
  thresholds: { high: 85, low: 70, break: null },
};
