import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { DraftSource, recordPaced } from '../../../cli/bench/e2e/load.js';
import { openStoreReader, type AuditedStore } from '../../../cli/bench/e2e/storeAudit.js';
import { createCentralStore } from '../../../broker/config.js';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { usePostgresDatabase } from '../../helpers/postgres.js';
import { proportional } from '../../../cli/bench/e2e/terminalShares.js';
import { scanEventSchema } from '../../../protocol/event.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { scanEvents } from '../../broker/mqtt/fixtures.js';

describe('bench e2e load', () => {
  it('splits whole numbers in proportion, adding up to the total', () => {
    expect(proportional(200, [1, 1])).toEqual([100, 100]);
    expect(proportional(7, [1, 1, 1])).toEqual([3, 2, 2]);
    expect(proportional(200_000, [67, 67, 66])).toEqual([67_000, 67_000, 66_000]);
  });

  it('records bursts at one terminal, terminals in turn', async () => {
    const order: number[] = [];
    const result = await recordPaced({ total: 10, ratePerSec: 0, terminals: 2, burst: 3, record: (index) => order.push(index) });
    expect(order).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1]);
    expect(result.lastMs).toBeGreaterThanOrEqual(result.firstMs);
  });

  it('makes drafts that become valid scan events, in the intended mix', () => {
    // mulberry32: a fixed seed, so the mix is the same on every run.
    let seed = 42;
    const random = (max: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * max);
    };
    const drafts = new DraftSource(random, 8);
    const reasons = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const draft = drafts.next();
      reasons.add(draft.reason);
      const event = {
        ...draft,
        id: uuidv7(),
        terminalId: 't-1',
        checkpointCode: '10000000000008',
        seq: i + 1,
        bootId: randomUUID(),
        ts: new Date().toISOString(),
        clockTrusted: true,
      };
      expect(scanEventSchema.safeParse(event).success).toBe(true);
    }
    expect([...reasons].sort()).toEqual(['allowed', 'debounce', 'denied', 'malformed', 'unknown']);
  });
});

describe('bench e2e store audit', () => {
  const tempDir = useTempDir('qrgate-audit-');
  const database = usePostgresDatabase();

  const stores: { name: string; open: () => Promise<{ store: CentralStore; audited: AuditedStore }> }[] = [
    {
      name: 'SQLite',
      open: async () => {
        const file = join(tempDir(), 'central.db');
        const store = new SqliteCentralStore({ file, logger: silentLogger() });
        await store.migrate();
        return { store, audited: { type: 'sqlite', file } };
      },
    },
    {
      name: 'PostgreSQL',
      open: async () => {
        // As bench e2e --store postgres sets the central up: the public schema of a database of its own.
        const store = await createCentralStore({ store: { type: 'postgres', url: database.url(), schema: 'public', retentionDays: null }, dataDir: '/nonexistent' }, { logger: silentLogger() });
        return { store, audited: { type: 'postgres', url: database.url() } };
      },
    },
  ];

  for (const { name, open } of stores) {
    it(`finds missing, doubled and foreign rows of the bench terminals only (${name})`, async () => {
      const { store, audited } = await open();
      const a = { terminalId: 'bx-00001', checkpointCode: '10000000000008' };
      const b = { terminalId: 'bx-00002', checkpointCode: '10000000000008' };
      const other = { terminalId: 'by-00001', checkpointCode: '10000000000008' };
      const events = [...scanEvents(a, 3), ...scanEvents(b, 2), ...scanEvents(b, 1, 2), ...scanEvents(b, 1, 9), ...scanEvents(other, 4)];
      // Received after every event was stamped (making them can take milliseconds on a loaded machine).
      const receivedAtMs = Date.now() + 5;
      await store.insertEvents(events, receivedAtMs);
      await store.close();

      const reader = openStoreReader(audited, 'bx', ['bx-00001', 'bx-00002']);
      try {
        expect(await reader.count()).toBe(7);
        // a recorded 4 (seq 4 missing), b recorded 3 (seq 3 missing, seq 2 twice, seq 9 never recorded).
        const audit = await reader.audit(new Map([['bx-00001', 4], ['bx-00002', 3]]));
        expect(audit).toMatchObject({ stored: 7, lost: 2, duplicated: 1, unexpected: 1, lastReceivedMs: receivedAtMs });
        expect(audit.latenciesMs).toHaveLength(7);
        expect(audit.latenciesMs[0]).toBeGreaterThanOrEqual(0);
      } finally {
        await reader.close();
      }
    });
  }
});
