import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Long chaos runs are `npm run test:chaos`, never part of `npm test`.
    exclude: ['test/chaos/**', 'node_modules/**'],
    // The sources compiled once, for the qrgate processes the tests start (see the file).
    globalSetup: ['test/setup/compiledQrgate.ts'],
    // Integration tests start real processes on a loaded 2-core machine; they wait for
    // conditions with deadlines of their own, this is only the outer bound.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one fork (cores - 1): the suite ran file after file while
    // most files wait on child processes, sockets and browsers, not on a core. Two forks
    // overlap those waits (on a clean clone: 764 s with one fork, 528 s with two); every wait has a deadline sized for a loaded machine.
    maxWorkers: 2,
  },
});
