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
  // own time (from the dry run) twice over plus this, and counts as detected. Each cut costs a
  // vitest restart, but a short margin counts live mutants as detected when the machine's
  // load rises after the dry run: with 1.5x + 2 s, 73 of listApplier.ts's 95 mutants "timed
  // out" on 3 December (load 25-30 from other work), log wording included.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${module.name}.json` },
  htmlReporter: { fileName: `reports/mutation/${module.name}.html` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The score is reported, not enforced here: the table in docs/testing.md is the record.
  thresholds: { high: 85, low: 70, break: null },
};
