import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Unit tests that start no process, use no database server and mock no module: they run with
 * `isolate: false`, one module graph per fork for all of them instead of one per file. Each
 * file re-imported the sources (zod schemas, pino, the store) on its own: test/protocol and
 * test/hardware took 41.7 s of CPU isolated and 23.4 s not (docs/testing.md, "How long npm
 * test takes"). A file here must leave no module state behind it (fake timers restored in
 * afterEach, no vi.mock, no globals); anything else goes to `integration`.
 */
const unitFolders = [
  'test/hardware',
  'test/provisioning',
  'test/broker/registry',
  'test/broker/store',
  'test/broker/access',
  'test/broker/lists',
  'test/broker/ingestion',
  'test/broker/auth',
];
/** In those folders, but with child processes, ptys, PostgreSQL or Redis: isolated as before. */
const unitExceptions = [
  'test/broker/auth/listScopes.test.ts',
  'test/broker/auth/revocation.test.ts',
  'test/broker/auth/sharedFailureCounts.test.ts',
  'test/broker/ingestion/mqttWorker.test.ts',
  'test/broker/registry/membersImport.test.ts',
  'test/broker/store/eventRetention.test.ts',
  'test/broker/store/postgresStore.test.ts',
  'test/hardware/gpio/relaySafety.test.ts',
  'test/hardware/serialScanner.pty.test.ts',
  'test/provisioning/centralCommand.test.ts',
  'test/provisioning/centralConfig.test.ts',
];
const unitFiles = unitFolders
  .flatMap((folder) => readdirSync(join(import.meta.dirname, folder), { recursive: true, encoding: 'utf8' }).map((file) => `${folder}/${file}`))
  .filter((file) => file.endsWith('.test.ts') && !unitExceptions.includes(file))
  .sort();

export default defineConfig({
  test: {
    // Integration tests start real processes on a loaded 2-core machine; they wait for
    // conditions with deadlines of their own, this is only the outer bound.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one fork (cores - 1): the suite ran file after file while
    // most files wait on child processes, sockets and browsers, not on a core. Two forks
    // overlap those waits (on a clean clone: 764 s with one fork, 528 s with two); every wait has a deadline sized for a loaded machine.
    // A third fork was tried on a clean clone (3 December evening): 651 s against 669 s with two,
    // within the noise, and each test slower for the contention: not worth the flake risk.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unitFiles,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Long chaos runs are `npm run test:chaos`, never part of `npm test`.
          exclude: ['test/chaos/**', 'node_modules/**', ...unitFiles],
          // The sources compiled once, for the qrgate processes the tests start (see the file).
          globalSetup: ['test/setup/compiledQrgate.ts'],
        },
      },
    ],
  },
});
