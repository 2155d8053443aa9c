import { defineConfig } from 'vitest/config';

/** `npm run test:chaos`: the long chaos runs that `npm test` leaves out (test/chaos/**). */
const chaosSeconds = Number(process.env.QRGATE_CHAOS_SECONDS ?? 120);

export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    // The chaos itself, then start-up and the final drain on a loaded 2-core machine.
    testTimeout: (chaosSeconds + 240) * 1000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
