import { recordFleetUpdates, type FleetUpdate } from '../../../broker/store/fleetUpdates.js';
import { describe, expect, it } from 'vitest';
import { Ingestion, type IngestionDeps } from '../../../broker/ingestion/ingestion.js';
import { LiveEvents, type StoredEvent } from '../../../broker/ingestion/liveEvents.js';
import type { TopicIdentity } from '../../../broker/ingestion/validate.js';
import type { Receipt } from '../../../protocol/messages.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import type { InsertResult } from '../../../broker/store/centralStore.js';
import type { ScanEvent } from '../../../protocol/event.js';
import type { Telemetry, TerminalStatus } from '../../../protocol/messages.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';

/** Ingestion on its own: exactly once into the store, and what it answers the broker (issue 13). */

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };

/** Just the four writes Ingestion makes; each can be made to fail. */
class Store {
  readonly events = new Map<string, ScanEvent>();
  readonly statuses: Array<{ terminalId: string; status: TerminalStatus; atMs: number }> = [];
  readonly telemetry: Array<{ terminalId: string; telemetry: Telemetry; atMs: number }> = [];
  readonly connections: Array<{ terminalId: string; online: boolean; atMs: number }> = [];
  failWith: Error | null = null;

  async insertEvents(events: readonly ScanEvent[]): Promise<InsertResult> {
    if (this.failWith) throw this.failWith;
    const stored = events.filter((e) => !this.events.has(e.id));
    for (const event of stored) this.events.set(event.id, event);
    return { inserted: stored.length, duplicates: events.length - stored.length, stored };
  }
  async recordStatus(terminalId: string, value: TerminalStatus, atMs: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.statuses.push({ terminalId, status: value, atMs });
  }
  async recordTelemetry(terminalId: string, value: Telemetry, atMs: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.telemetry.push({ terminalId, telemetry: value, atMs });
  }
  async recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.connections.push({ terminalId, online, atMs });
  }
  async recordFleet(updates: readonly FleetUpdate[]): Promise<void> {
    await recordFleetUpdates(this, updates);
  }
}

function setup(extra: Partial<Pick<IngestionDeps, 'liveEvents' | 'sendReceipt'>> = {}) {
  const store = new Store();
  const registry = new MemoryMetrics();
  const log = captureLogger();
  const ingestion = new Ingestion({
    store,
    metrics: createBrokerMetrics(registry),
    logger: log.logger,
    commit: { maxDelayMs: 1, maxEvents: 1000 },
    now: () => 42_000,
    ...extra,
  });
  return { store, registry, log, ingestion };
}

describe('Ingestion', () => {
  it('stores each event once however often it arrives, and counts first arrivals and redeliveries apart', async () => {
    const s = setup();
    const events = scanEvents(who, 3);
    expect(await s.ingestion.events(who, batch(events))).toBe('drop');
    expect(await s.ingestion.events(who, Buffer.from(batch([events[2]!, ...scanEvents(who, 1, 4)])))).toBe('drop');
    expect(s.store.events.size).toBe(4);
    expect(s.registry.value('qrgate_events_ingested_total')).toBe(4);
    expect(s.registry.value('qrgate_events_duplicate_total')).toBe(1);
    expect(s.registry.value('qrgate_ingest_commits_total')).toBe(2);
    expect(s.log.messages('ingest.committed')[0]).toMatchObject({ inserted: 3, duplicates: 0, submissions: 1 });
    expect(JSON.stringify(s.log.lines)).not.toContain(events[0]!.credentialRef);
    // No receipts asked for (a central without them): nothing tried, nothing failed.
    expect(s.log.messages('ingest.receipt-failed')).toEqual([]);
    await s.ingestion.stop();
  });

  it('acknowledges and drops a malformed batch without storing any of it, counted and logged', async () => {
    const s = setup();
    const foreign = scanEvents({ ...who, terminalId: 'gate-b-1' }, 1);
    expect(await s.ingestion.events(who, batch([...scanEvents(who, 1), ...foreign]))).toBe('drop');
    expect(await s.ingestion.events(who, 'not json')).toBe('drop');
    expect(s.store.events.size).toBe(0);
    expect(s.registry.value('qrgate_messages_malformed_total')).toBe(2);
    expect(s.log.messages('ingest.malformed')).toMatchObject([
      { terminalId: who.terminalId, kind: 'events', reason: 'events[1].terminalId is not the publishing terminal' },
      { terminalId: who.terminalId, kind: 'events', reason: 'not JSON' },
    ]);
  });

  it('rejects a batch the store failed to commit, so it is not acknowledged and comes back', async () => {
    const s = setup();
    s.store.failWith = new Error('disk I/O error');
    await expect(s.ingestion.events(who, batch(scanEvents(who, 2)))).rejects.toThrow('disk I/O error');
    expect(s.registry.value('qrgate_ingest_commit_failures_total')).toBe(1);
    expect(s.log.messages('ingest.commit-failed')).toMatchObject([{ events: 2 }]);
    s.store.failWith = null;
    await s.ingestion.events(who, batch(scanEvents(who, 2)));
    expect(s.store.events.size).toBe(2);
  });

  it('routes status and telemetry on, stamped with the central time, and drops malformed ones', async () => {
    const s = setup();
    expect(await s.ingestion.status(who, status('online'))).toBe('forward');
    expect(await s.ingestion.telemetry(who, telemetry())).toBe('forward');
    expect(await s.ingestion.status(who, '{"v":1}')).toBe('drop');
    expect(await s.ingestion.telemetry(who, '[]')).toBe('drop');
    expect(s.store.statuses).toMatchObject([{ terminalId: who.terminalId, status: { state: 'online' }, atMs: 42_000 }]);
    expect(s.store.telemetry).toMatchObject([{ terminalId: who.terminalId, atMs: 42_000 }]);
    expect(s.log.messages('ingest.malformed').map((l) => l.kind)).toEqual(['status', 'telemetry']);
  });

  it('believes only an offline status from a will without its client', async () => {
    const s = setup();
    expect(await s.ingestion.status(who, status('online'), { offlineOnly: true })).toBe('drop');
    expect(s.log.messages('ingest.malformed')).toMatchObject([{ reason: 'a will without its client must say offline' }]);
    expect(await s.ingestion.status(who, status('offline'), { offlineOnly: true })).toBe('forward');
    expect(s.store.statuses.map((r) => r.status.state)).toEqual(['offline']);
  });

  it('logs a failed fleet-view write instead of refusing the message, and stop waits for connection writes', async () => {
    const s = setup();
    s.store.failWith = new Error('locked');
    expect(await s.ingestion.status(who, status('online'))).toBe('forward');
    expect(s.log.messages('ingest.record-failed')).toMatchObject([{ terminalId: who.terminalId, kind: 'status' }]);
    s.store.failWith = null;
    s.ingestion.connection(who.terminalId, true);
    await s.ingestion.stop();
    expect(s.store.connections).toEqual([{ terminalId: who.terminalId, online: true, atMs: 42_000 }]);
    await s.ingestion.stop();
    await expect(s.ingestion.events(who, batch(scanEvents(who, 1)))).rejects.toMatchObject({ code: 'committer-stopped' });
  });

  it('flushes waiting events on demand', async () => {
    const s = setup();
    const slow = new Ingestion({
      store: s.store,
      metrics: createBrokerMetrics(new MemoryMetrics()),
      logger: s.log.logger,
      commit: { maxDelayMs: 60_000, maxEvents: 1000 },
    });
    const stored = slow.events(who, batch(scanEvents(who, 1)));
    await slow.flush();
    expect(await stored).toBe('drop');
    expect(s.store.events.size).toBe(1);
    await slow.stop();
  });
});

describe('Ingestion: after the commit (receipts, the live log, a retained status)', () => {
  it('sends the terminal a receipt naming every event of a stored batch, redeliveries included, and none for a malformed one', async () => {
    const receipts: Array<[TopicIdentity, Receipt]> = [];
    const s = setup({ sendReceipt: (identity, receipt) => void receipts.push([identity, receipt]) });
    const events = scanEvents(who, 2);
    await s.ingestion.events(who, batch(events));
    await s.ingestion.events(who, batch([events[1]!, ...scanEvents(who, 1, 3)]));
    await s.ingestion.events(who, 'not json');
    expect(receipts).toEqual([
      [who, { v: 1, seqs: [1, 2] }],
      [who, { v: 1, seqs: [2, 3] }],
    ]);
  });

  it('still acknowledges a stored batch whose receipt could not be sent, and says so', async () => {
    const s = setup({
      sendReceipt: () => {
        throw new Error('client gone');
      },
    });
    expect(await s.ingestion.events(who, batch(scanEvents(who, 1)))).toBe('drop');
    expect(s.store.events.size).toBe(1);
    expect(s.log.messages('ingest.receipt-failed')).toMatchObject([{ level: 40, terminalId: who.terminalId, err: { message: 'client gone' } }]);
  });

  it('shows live watchers each newly stored event once, stamped with the time it was received', async () => {
    const live = new LiveEvents();
    const seen: StoredEvent[][] = [];
    const s = setup({ liveEvents: live });
    const events = scanEvents(who, 2);
    await s.ingestion.events(who, batch(events));
    live.subscribe((stored) => seen.push([...stored]));
    await s.ingestion.events(who, batch([events[0]!, ...scanEvents(who, 1, 3)]));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((event) => [event.seq, event.receivedAt])).toEqual([[3, '1970-01-01T00:00:42.000Z']]);
    expect(seen[0]![0]).toMatchObject({ id: expect.any(String), terminalId: who.terminalId, credentialRef: expect.any(String) });
  });

  it('builds nothing for the live log while nobody watches', async () => {
    const published: unknown[] = [];
    const s = setup({ liveEvents: { listenerCount: 0, publish: (events: unknown) => void published.push(events) } as unknown as LiveEvents });
    await s.ingestion.events(who, batch(scanEvents(who, 1)));
    expect(s.store.events.size).toBe(1);
    expect(published).toEqual([]);
  });

  it('records the broker\'s retained copy of a status as of the time it states, never later than now', async () => {
    const s = setup();
    const stated = (at: string) => JSON.stringify({ ...JSON.parse(status('online')), at });
    await s.ingestion.status(who, stated('1970-01-01T00:00:10.000Z'), { retainedCopy: true });
    await s.ingestion.status(who, stated(new Date().toISOString()), { retainedCopy: true });
    await s.ingestion.status(who, stated('1970-01-01T00:00:10.000Z'));
    expect(s.store.statuses.map((row) => row.atMs)).toEqual([10_000, 42_000, 42_000]);
  });
});
