import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rebuildHourlyCounts } from '../../../broker/store/sqliteHourlyCounts.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { decisions, directions } from '../../../protocol/event.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { base, bruteHistogram, bruteStats, eventSpec, HOUR, instant, itAgreesWithBruteForce, withCheckpoints } from './rollupProperty.js';
import { CP_A, CP_B, scanEvent } from './scanEvents.js';

const tempDir = useTempDir('qrgate-hourly-');
let run = 0;

async function openStore(file: string): Promise<SqliteCentralStore> {
  return withCheckpoints(new SqliteCentralStore({ file, logger: silentLogger() }));
}

describe('checkpoint stats from the hourly rollup', () => {
  itAgreesWithBruteForce(async () => new SqliteCentralStore({ file: join(tempDir(), `central-${run++}.db`), logger: silentLogger() }));

  it('stay equal to a count over the events left after retention, the rollup table row for row', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventSpec, { maxLength: 120 }),
        instant,
        fc.integer({ min: 1, max: 40 }),
        fc.array(instant, { minLength: 1, maxLength: 4 }),
        async (specs, cutoffMs, maxRows, nows) => {
          const file = join(tempDir(), `retained-${run++}.db`);
          const store = await openStore(file);
          try {
            const events = specs.map((s, i) => scanEvent({ terminalId: s.code === CP_A ? 't1' : 't3', checkpointCode: s.code, seq: i + 1, tsMs: s.tsMs, decision: s.decision, direction: s.direction }, false));
            if (events.length > 0) await store.insertEvents(events, base);
            let batch;
            do {
              batch = await store.deleteEventsBefore(cutoffMs, maxRows);
              expect(batch.events).toBeLessThanOrEqual(maxRows);
            } while (!batch.done);
            const kept = events.filter((e) => Date.parse(e.ts) >= cutoffMs);
            for (const nowMs of nows) {
              for (const code of [CP_A, CP_B]) expect(await store.checkpointStats(code, nowMs)).toMatchObject(bruteStats(kept, code, nowMs));
            }
            expect(await store.checkpointHistogram(CP_A, base, base + 36 * 24 * HOUR, 'hour')).toEqual(bruteHistogram(kept, CP_A, base, base + 36 * 24 * HOUR, 'hour'));
            // No hour left at zero, none off by one: the table is what a rebuild from the events makes.
            const raw = new Database(file);
            const rollup = () => raw.prepare('SELECT checkpoint_code, hour_ms, decision, count FROM checkpoint_hourly_counts ORDER BY 1, 2, 3').all();
            const left = rollup();
            rebuildHourlyCounts(raw);
            expect(left).toEqual(rollup());
            raw.close();
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 40, seed: 155 },
    );
  });

  it('are rebuilt from the stored events by the backfill the migration runs', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await openStore(file);
    const nowMs = base + 20 * 24 * HOUR + 1234;
    const events = Array.from({ length: 300 }, (_, i) =>
      scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: i + 1, tsMs: nowMs - i * 97 * 60_000, decision: decisions[i % 3]!, direction: directions[i % 2]! }, false),
    );
    await store.insertEvents(events, nowMs);
    const before = await store.checkpointStats(CP_A, nowMs);
    expect(before).toMatchObject(bruteStats(events, CP_A, nowMs));

    // A database whose events were stored before the rollup existed: the rollup is empty, the backfill fills it.
    const raw = new Database(file);
    raw.exec('DELETE FROM checkpoint_hourly_counts');
    expect(await store.checkpointStats(CP_A, nowMs)).not.toEqual(before);
    rebuildHourlyCounts(raw);
    raw.close();
    expect(await store.checkpointStats(CP_A, nowMs)).toEqual(before);
    await store.close();
  });
});
