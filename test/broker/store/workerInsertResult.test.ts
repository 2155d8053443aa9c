import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerCentralStore } from '../../../broker/store/worker/workerCentralStore.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { CP_A, eventRun } from './scanEvents.js';

const tempDir = useTempDir('qrgate-worker-insert-');

describe('insertEvents through the worker thread', () => {
  it('answers with the events stored now, in order, and leaves out the redeliveries mixed among them', async () => {
    const store = new WorkerCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() });
    await store.migrate();
    try {
      await store.createCheckpoint({ code: CP_A, name: 'Cổng A', direction: 'both', confirm: 'auto' });
      await store.addTerminal({ terminalId: 't1', checkpointCode: CP_A, secretHash: 'hmac-sha256$s$h', listScopes: ['default'] });
      const events = eventRun('t1', CP_A, 1, 10, Date.parse('2026-12-01T08:00:00Z'));
      const first = await store.insertEvents([events[1]!, events[4]!, events[7]!], Date.now());
      expect(first).toEqual({ inserted: 3, duplicates: 0, stored: [events[1], events[4], events[7]] });

      const again = await store.insertEvents(events, Date.now());
      const fresh = events.filter((_, i) => ![1, 4, 7].includes(i));
      expect(again).toEqual({ inserted: 7, duplicates: 3, stored: fresh });
      // The caller's own objects: what it hands on (the live log, the scan counter) is what it sent.
      expect(again.stored[0]).toBe(events[0]);

      expect(await store.insertEvents(events, Date.now())).toEqual({ inserted: 0, duplicates: 10, stored: [] });
    } finally {
      await store.close();
    }
  });
});
