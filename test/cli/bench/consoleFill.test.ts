import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { fillEvents } from '../../../cli/bench/console/fillEvents.js';
import { scanEventSchema } from '../../../protocol/event.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { CP_A, CP_B } from '../../broker/store/scanEvents.js';

describe('bench console store fill', () => {
  const tempDir = useTempDir('qrgate-fill-');

  it('stores valid scan events the store reads back, counted in its stats, with no sequence gaps', async () => {
    const file = join(tempDir(), 'central.db');
    const endMs = Date.UTC(2025, 4, 31, 12, 30);
    const store = new SqliteCentralStore({ file, logger: silentLogger() });
    await store.migrate();
    await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
    await store.createCheckpoint({ code: CP_B, name: 'Gate B', direction: 'both', confirm: 'auto' });
    await store.close();

    fillEvents({ storeFile: file, checkpoints: [CP_A, CP_B], terminalsPerCheckpoint: 2, events: 3000, endMs, spanMs: 30 * 86_400_000, log: () => {} });

    const filled = new SqliteCentralStore({ file, logger: silentLogger() });
    await filled.migrate();
    const page = await filled.searchEvents({ limit: 1000 });
    for (const event of page.events) expect(scanEventSchema.safeParse({ ...event, receivedAt: undefined }).success).toBe(true);
    expect(page.events[0]!.ts).toBe(new Date(endMs).toISOString());
    const a = await filled.checkpointStats(CP_A, endMs);
    const b = await filled.checkpointStats(CP_B, endMs);
    expect(a!.lastMonth + b!.lastMonth).toBe(3000);
    expect(a!.lastDay + b!.lastDay).toBe(100);
    expect(await filled.gaps()).toEqual([]);
    // The credential ref column is filled as the writer fills it: the log's filter by person finds the rows.
    const ref = page.events[0]!.credentialRef!;
    const byPerson = await filled.searchEvents({ credentialRefs: [ref], limit: 1000 });
    expect(byPerson.events.length).toBeGreaterThan(0);
    expect(byPerson.events.every((e) => e.credentialRef === ref)).toBe(true);
    await filled.close();
  });
});
