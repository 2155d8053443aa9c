import { describe, expect, it } from 'vitest';
import { Ingestion } from '../../../broker/ingestion/ingestion.js';
import { LiveEvents, type StoredEvent } from '../../../broker/ingestion/liveEvents.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { batch, scanEvents } from '../mqtt/fixtures.js';

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };

const openStore = useTestStore();

async function setup() {
  const store = await openStore();
  const log = captureLogger();
  const liveEvents = new LiveEvents(log.logger);
  const ingestion = new Ingestion({ store, metrics: createBrokerMetrics(new MemoryMetrics()), logger: log.logger, commit: { maxDelayMs: 1, maxEvents: 100 }, liveEvents });
  return { store, log, liveEvents, ingestion };
}

describe('ingestion -> live events', () => {
  it('announces each event once, after its commit, with when it was received; redeliveries not again', async () => {
    const { store, liveEvents, ingestion } = await setup();
    const seen: { events: readonly StoredEvent[]; storedAlready: boolean }[] = [];
    liveEvents.subscribe((events) => {
      // Stored before announced: what a watcher sees, the log already holds.
      seen.push({ events, storedAlready: events.every((e) => store.hasEvent(e.id)) });
    });
    const events = scanEvents(who, 3);
    expect(await ingestion.events(who, batch(events))).toBe('drop');
    expect(await ingestion.events(who, batch(events))).toBe('drop');
    await ingestion.stop();
    expect(seen.map((s) => s.storedAlready)).toEqual([true]);
    expect(seen[0]!.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(seen[0]!.events.every((e) => !Number.isNaN(Date.parse(e.receivedAt)))).toBe(true);
  });

  it("keeps a failing watcher's error away from ingestion and the other watchers", async () => {
    const { log, liveEvents, ingestion } = await setup();
    const got: string[] = [];
    liveEvents.subscribe(() => {
      throw new Error('watcher broke');
    });
    const unsubscribe = liveEvents.subscribe((events) => got.push(...events.map((e) => e.id)));
    const events = scanEvents(who, 2);
    await ingestion.events(who, batch(events));
    await ingestion.flush();
    expect(got).toEqual(events.map((e) => e.id));
    expect(log.messages('live-events.listener-failed')).toHaveLength(1);
    unsubscribe();
    unsubscribe();
    expect(liveEvents.listenerCount).toBe(1);
    await ingestion.stop();
  });
});
