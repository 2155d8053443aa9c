import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Central } from '../../../broker/central.js';
import { centralDbFileName, defaultRetentionDays, loadCentralConfig, type CentralConfigInput } from '../../../broker/config.js';
import type { RetentionBatch } from '../../../broker/store/centralStore.js';
import { dayMs, EventRetention, nextBatchRows } from '../../../broker/store/eventRetention.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { ConfigError } from '../../../protocol/configFile.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { writeCentralSite } from '../mqtt/centralFixture.js';
import { CP_A, eventRun } from './scanEvents.js';

const tempDir = useTempDir('qrgate-retention-');

/** A store that deletes `total` old events, `maxRows` at a time, and remembers every call. */
function countingStore(total: number) {
  let left = total;
  const calls: { cutoffMs: number; maxRows: number; budgetMs: number | undefined }[] = [];
  return {
    calls,
    refill(events: number) {
      left += events;
    },
    async deleteEventsBefore(cutoffMs: number, maxRows: number, budgetMs?: number): Promise<RetentionBatch> {
      calls.push({ cutoffMs, maxRows, budgetMs });
      const events = Math.min(left, maxRows);
      left -= events;
      return { events, done: left === 0 && events < maxRows };
    },
  };
}

describe('EventRetention', () => {
  it('deletes up to now minus retentionDays, batch after batch, and logs the pass with what it took', async () => {
    const store = countingStore(2500);
    const log = captureLogger('debug');
    const now = Date.UTC(2026, 11, 3);
    const retention = new EventRetention({ retentionDays: 35, initialBatchRows: 1000, pauseMs: 0 }, { store, logger: log.logger, nowMs: () => now });
    const pass = await retention.runOnce();
    expect(pass).toMatchObject({ cutoffMs: now - 35 * dayMs, events: 2500, interrupted: false });
    expect(store.calls.every((call) => call.cutoffMs === now - 35 * dayMs)).toBe(true);
    // Each batch may run the time aimed at (15 ms by default) and no longer.
    expect(new Set(store.calls.map((call) => call.budgetMs))).toEqual(new Set([15]));
    expect(log.messages('store.retention-batch').reduce((sum, line) => sum + (line.events as number), 0)).toBe(2500);
    expect(log.messages('store.retention-pass')).toEqual([expect.objectContaining({ events: 2500, batches: store.calls.length, cutoff: new Date(now - 35 * dayMs).toISOString() })]);
    await retention.stop();
  });

  it('runs a first pass at start and the next on its timer', async () => {
    const store = countingStore(10);
    const log = captureLogger('info');
    const retention = new EventRetention({ retentionDays: 1, intervalMs: 20, pauseMs: 0 }, { store, logger: log.logger });
    retention.start();
    try {
      await waitFor(() => log.messages('store.retention-pass').length >= 1, 10_000, 'the first pass');
      store.refill(7);
      await waitFor(() => log.messages('store.retention-pass').some((line) => line.events === 7), 10_000, 'a pass on the timer');
    } finally {
      await retention.stop();
    }
    expect(log.messages('store.retention-started')).toEqual([expect.objectContaining({ retentionDays: 1, intervalMs: 20 })]);
  });

  it('stops a pass between two batches and says it was interrupted', async () => {
    const store = countingStore(Number.MAX_SAFE_INTEGER);
    const log = captureLogger('info');
    const retention = new EventRetention({ retentionDays: 1, pauseMs: 1 }, { store, logger: log.logger });
    retention.start();
    await waitFor(() => store.calls.length >= 3, 10_000, 'a few batches');
    await retention.stop();
    const calls = store.calls.length;
    expect(log.messages('store.retention-pass')).toEqual([expect.objectContaining({ interrupted: true })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls.length).toBe(calls);
    await retention.stop();
  });

  it('calls again with the same batch size after a store told it to wait (nothing deleted, not done)', async () => {
    const store = countingStore(300);
    let waits = 3;
    const deferring = {
      calls: store.calls,
      deleteEventsBefore(cutoffMs: number, maxRows: number, budgetMs?: number): Promise<RetentionBatch> {
        if (waits-- > 0) {
          store.calls.push({ cutoffMs, maxRows, budgetMs });
          return Promise.resolve({ events: 0, done: false });
        }
        return store.deleteEventsBefore(cutoffMs, maxRows, budgetMs);
      },
    };
    const retention = new EventRetention({ retentionDays: 1, initialBatchRows: 200, pauseMs: 0 }, { store: deferring, logger: silentLogger() });
    const pass = await retention.runOnce();
    expect(pass).toMatchObject({ events: 300, interrupted: false });
    // The three refusals took no time: sized by it, the batch would have grown to 391 rows.
    expect(store.calls.slice(0, 4).map((call) => call.maxRows)).toEqual([200, 200, 200, 200]);
  });

  it('sizes the next batch from how long the last took: halved over the target, grown well under it, within bounds', () => {
    expect(nextBatchRows(1000, 30, 15)).toBe(500);
    expect(nextBatchRows(1000, 2, 15)).toBe(1250);
    expect(nextBatchRows(1000, 10, 15)).toBe(1000);
    expect(nextBatchRows(120, 100, 15)).toBe(100);
    expect(nextBatchRows(9000, 1, 15)).toBe(10_000);
  });
});

describe('store.retentionDays in the central config', () => {
  function configWith(store: unknown): string {
    return writeCentralSite(tempDir(), { store } as Partial<CentralConfigInput>);
  }

  it(`defaults to ${defaultRetentionDays} days, takes whole days or null (kept for ever), on both store types`, () => {
    expect(loadCentralConfig(configWith({ type: 'sqlite' })).store.retentionDays).toBe(defaultRetentionDays);
    expect(loadCentralConfig(writeCentralSite(tempDir())).store.retentionDays).toBe(defaultRetentionDays);
    expect(loadCentralConfig(configWith({ type: 'sqlite', retentionDays: 25 })).store.retentionDays).toBe(25);
    expect(loadCentralConfig(configWith({ type: 'sqlite', retentionDays: null })).store.retentionDays).toBeNull();
    expect(loadCentralConfig(configWith({ type: 'postgres', url: 'postgresql://db/qrgate', retentionDays: 60 })).store).toEqual({ type: 'postgres', url: 'postgresql://db/qrgate', schema: 'public', retentionDays: 60 });
  });

  it.each([0, -5, 1.5, '35', 10_000, true])('refuses retentionDays %j, naming store.retentionDays', (bad) => {
    let error: unknown;
    try {
      loadCentralConfig(configWith({ type: 'sqlite', retentionDays: bad }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^store\.retentionDays: /)]);
  });
});

describe('a central with store.retentionDays', () => {
  const now = Date.now();

  /** A site whose store already holds 30 events from 40 days ago and 20 from the last hour. */
  async function siteWithOldEvents(store: Record<string, unknown>) {
    const dir = tempDir();
    const config = loadCentralConfig(writeCentralSite(dir, { store } as Partial<CentralConfigInput>));
    const file = join(config.dataDir, centralDbFileName);
    const seed = new SqliteCentralStore({ file, logger: silentLogger() });
    await seed.migrate();
    await seed.insertEvents([...eventRun('t1', CP_A, 1, 30, now - 40 * dayMs), ...eventRun('t1', CP_A, 31, 50, now - 3_600_000)], now);
    await seed.close();
    return { config, file };
  }

  async function storedSeqs(file: string): Promise<number[]> {
    const reader = new SqliteCentralStore({ file, logger: silentLogger() });
    await reader.migrate();
    try {
      return (await reader.searchEvents({ limit: 1000 })).events.map((e) => e.seq).sort((a, b) => a - b);
    } finally {
      await reader.close();
    }
  }

  it('deletes the events older than retention once started, keeps the new ones, and logs the pass', async () => {
    const { config, file } = await siteWithOldEvents({ type: 'sqlite', retentionDays: 30 });
    const log = captureLogger('info');
    const central = new Central(config, { logger: log.logger });
    await central.start();
    try {
      const pass = await waitFor(() => log.messages('store.retention-pass')[0], 20_000, 'store.retention-pass');
      expect(pass).toMatchObject({ events: 30, interrupted: false });
      expect(await storedSeqs(file)).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
    } finally {
      await central.stop();
    }
  });

  it('keeps every event with retentionDays null, and says so at start', async () => {
    const { config, file } = await siteWithOldEvents({ type: 'sqlite', retentionDays: null });
    const log = captureLogger('info');
    const central = new Central(config, { logger: log.logger });
    await central.start();
    await central.stop();
    expect(log.messages('store.retention-off')).toHaveLength(1);
    expect(log.messages('store.retention-pass')).toEqual([]);
    expect(await storedSeqs(file)).toHaveLength(50);
  });
});
