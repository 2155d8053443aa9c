import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { isStoreError } from '../../../broker/store/storeError.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { WorkerCentralStore } from '../../../broker/store/worker/workerCentralStore.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { waitFor } from '../../helpers/waitFor.js';
import { loopTurnsDuring } from '../../helpers/loopTurns.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { CP_A, eventRun } from './scanEvents.js';

const tempDir = useTempDir('qrgate-worker-store-');

async function withCheckpoint(store: CentralStore): Promise<CentralStore> {
  await store.migrate();
  await store.createCheckpoint({ code: CP_A, name: 'Cổng A', direction: 'both', confirm: 'auto' });
  await store.addTerminal({ terminalId: 't1', checkpointCode: CP_A, secretHash: 'hmac-sha256$s$h', listScopes: ['default'] });
  return store;
}

describe('the SQLite store in a worker thread', () => {
  const events = eventRun('t1', CP_A, 1, 20_000, Date.parse('2026-12-01T08:00:00Z'));
  const receivedAtMs = Date.parse('2026-12-01T09:00:00Z');

  it("keeps the caller's event loop turning through a 20,000-event commit, where the same store in the caller's thread holds it still", async () => {
    const inThread = await withCheckpoint(new SqliteCentralStore({ file: join(tempDir(), 'caller.db'), logger: silentLogger() }));
    const inWorker = await withCheckpoint(new WorkerCentralStore({ file: join(tempDir(), 'worker.db'), logger: silentLogger() }));
    try {
      expect(await loopTurnsDuring(() => inThread.insertEvents(events, receivedAtMs))).toBe(0);
      expect(await loopTurnsDuring(() => inWorker.insertEvents(events, receivedAtMs))).toBeGreaterThan(0);
      // The same answer either way: the worker is a place, not another store.
      expect(await inWorker.gaps()).toEqual(await inThread.gaps());
      expect((await inWorker.searchEvents({ limit: 5 })).events).toEqual((await inThread.searchEvents({ limit: 5 })).events);
    } finally {
      await inThread.close();
      await inWorker.close();
    }
  });

  it("writes the store's log lines through the central's own logger", async () => {
    const { logger, messages } = captureLogger('info');
    const file = join(tempDir(), 'central.db');
    const store = new WorkerCentralStore({ file, logger });
    await store.migrate();
    await store.close();
    expect(messages('store.opened')).toEqual([expect.objectContaining({ component: 'store', file, level: 30 })]);
    expect(messages('store.closed')).toHaveLength(1);
  });

  it('fails the calls in flight and every later one as store-closed when its thread dies, and says so in the log', async () => {
    const { logger, messages } = captureLogger('info');
    let thread: Worker | null = null;
    const store = await withCheckpoint(new WorkerCentralStore({ file: join(tempDir(), 'central.db'), logger, onWorker: (worker) => (thread = worker) }));
    const inFlight = store.insertEvents(events, Date.now());
    await thread!.terminate();
    const err = await inFlight.then(
      () => null,
      (e: unknown) => e,
    );
    // Terminated before or after its commit: either way the caller is not told "stored".
    expect(isStoreError(err, 'store-closed')).toBe(true);
    await expect(store.gaps()).rejects.toSatisfy((e: unknown) => isStoreError(e, 'store-closed'));
    await waitFor(() => messages('store.worker-exited').length === 1, 10_000, 'store.worker-exited logged');
    // What `qrgate central` and `qrgate ingest` stop on (cli/service.ts: exit 1, the supervisor restarts them).
    await expect(store.lost).rejects.toSatisfy((e: unknown) => isStoreError(e, 'store-closed'));
    await store.close();
  });

  it('refuses a database written by a newer qrgate at migrate, with the code the caller checks', async () => {
    const file = join(tempDir(), 'central.db');
    const first = new SqliteCentralStore({ file, logger: silentLogger() });
    await first.migrate();
    await first.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(file);
    raw.pragma('user_version = 9999');
    raw.close();
    const store = new WorkerCentralStore({ file, logger: silentLogger() });
    await expect(store.migrate()).rejects.toSatisfy((e: unknown) => isStoreError(e, 'schema-too-new'));
    await store.close();
  });
});
