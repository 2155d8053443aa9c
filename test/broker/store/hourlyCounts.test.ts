import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rebuildHourlyCounts } from '../../../broker/store/sqliteHourlyCounts.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { decisions, directions } from '../../../protocol/event.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { base, bruteStats, HOUR, itAgreesWithBruteForce, withCheckpoints } from './rollupProperty.js';
import { CP_A, scanEvent } from './scanEvents.js';

const tempDir = useTempDir('qrgate-hourly-');
let run = 0;

async function openStore(file: string): Promise<SqliteCentralStore> {
  return withCheckpoints(new SqliteCentralStore({ file, logger: silentLogger() }));
}

describe('checkpoint stats from the hourly rollup', () => {
  itAgreesWithBruteForce(async () => new SqliteCentralStore({ file: join(tempDir(), `central-${run++}.db`), logger: silentLogger() }));

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
