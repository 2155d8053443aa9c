import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { DraftSource, recordPaced } from '../../../cli/bench/e2e/load.js';
import { openStoreReader, type AuditedStore } from '../../../cli/bench/e2e/storeAudit.js';
import { createCentralStore } from '../../../broker/config.js';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { usePostgresDatabase } from '../../helpers/postgres.js';
import type { E2eBenchOptions, E2eBenchResult } from '../../../cli/bench/e2eBench.js';
import { runE2ePairBench } from '../../../cli/bench/e2ePairBench.js';
import { run as benchE2e, storesOption } from '../../../cli/commands/benchE2e.js';
import { cliContext } from '../../helpers/cliContext.js';
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

describe('bench e2e options', () => {
  it('takes one store, or both with --pair, and refuses the rest as usage errors', async () => {
    expect(storesOption(undefined, false)).toEqual(['sqlite']);
    expect(storesOption('postgres', false)).toEqual(['postgres']);
    expect(storesOption('sqlite,postgres', true)).toEqual(['sqlite', 'postgres']);
    expect(() => storesOption('sqlite,postgres', false)).toThrow('--store takes one store, or several with --pair');
    expect(() => storesOption('mysql', false)).toThrow('--store must be one of sqlite, postgres');
    expect(() => storesOption('sqlite,sqlite', true)).toThrow('--store names a store twice');
    const usage = (argv: string[]) => expect(benchE2e(cliContext(argv).ctx)).rejects.toMatchObject({ code: 'usage' });
    await usage(['--pg-url', 'postgresql://x/y']);
    await usage(['--store', 'sqlite', '--pg-url', 'postgresql://x/y']);
    await usage(['--rounds', '3']);
    await usage(['--pair', '--mosquitto']);
    await usage(['--pair', '--no-receipts']);
    await usage(['--pair', '--broker', 'mqtt://127.0.0.1:1883']);
  });
});

describe('bench e2e --pair', () => {
  const fakeResult = (eventsPerSec: number, lost = 0): E2eBenchResult => ({ eventsPerSec, lost, lostAfterAck: lost, duplicated: 0 }) as unknown as E2eBenchResult;

  it('runs both sides per store in turn, the first side alternating by round, and gives the ratio of the medians', async () => {
    const calls: string[] = [];
    // Our central at 1,000 / 3,000 / 2,000 events/s, the Mosquitto path at 1,000 every time.
    const central = [1000, 3000, 2000];
    const run = async (options: E2eBenchOptions): Promise<E2eBenchResult> => {
      const side = options.broker === 'mosquitto' ? 'mosquitto' : 'central';
      calls.push(`${options.store}/${side}`);
      if (side === 'mosquitto') {
        expect(options.receipts).toBe(true);
        return fakeResult(1000, options.store === 'postgres' ? 1 : 0);
      }
      if (options.store === 'postgres') throw new Error('no server');
      return fakeResult(central.shift()!);
    };
    const base = { terminals: 2, events: 20, ratePerSec: 0, burst: 1, loadProcesses: 1, backlog: true, drainTimeoutMs: 1000 };
    const result = await runE2ePairBench({ ...base, rounds: 3, stores: ['sqlite', 'postgres'] }, run);

    expect(calls).toEqual([
      'sqlite/central', 'sqlite/mosquitto', 'postgres/central', 'postgres/mosquitto',
      'sqlite/mosquitto', 'sqlite/central', 'postgres/mosquitto', 'postgres/central',
      'sqlite/central', 'sqlite/mosquitto', 'postgres/central', 'postgres/mosquitto',
    ]);
    const [sqlite, postgres] = result.stores;
    expect(sqlite).toMatchObject({ store: 'sqlite', ratio: 2, central: { eventsPerSec: 2000, failed: 0 }, mosquitto: { eventsPerSec: 1000, lost: 0 } });
    // A failed side keeps its runs' errors and gives no ratio; losses add up over the rounds.
    expect(postgres).toMatchObject({ store: 'postgres', ratio: null, central: { eventsPerSec: null, failed: 3 }, mosquitto: { lost: 3, lostAfterAck: 3 } });
    expect(postgres!.central.runs[0]).toEqual({ error: 'no server' });
  });
});
