import { describe, it, expect } from 'vitest';
import { receiptSchema } from '../../../protocol/messages.js';
import { receiptsTopic, terminalTopic } from '../../../protocol/topics.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/** The broker over the real store: a SQLite file in a temp folder. */
describe('ingestion into SqliteCentralStore', () => {
  const startBroker = useBroker();

  it('has the batch in the database when publishAsync resolves, and stores a redelivery once', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'events');
    const events = scanEvents(t, 120);
    await client.publishAsync(topic, batch(events), { qos: 1 });
    const stored = await h.store.searchEvents({ terminal: t.terminalId, limit: 1000 });
    expect(stored.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());

    await client.publishAsync(topic, batch(events), { qos: 1, dup: true });
    expect((await h.store.searchEvents({ terminal: t.terminalId, limit: 1000 })).events).toHaveLength(120);
    expect(h.metric('qrgate_events_ingested_total')).toBe(120);
    expect(h.metric('qrgate_events_duplicate_total')).toBe(120);
    expect(h.registry.value('qrgate_scans_total', { decision: 'granted', reason: 'allowed' })).toBe(120);
  });

  it('sends the terminal a receipt only after the commit, for a redelivered batch too, none for a malformed one', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const receipts: number[][] = [];
    client.on('message', (topic, payload) => {
      if (topic === receiptsTopic(t.checkpointCode, t.terminalId)) receipts.push(receiptSchema.parse(JSON.parse(payload.toString('utf8'))).seqs);
    });
    await client.subscribeAsync(receiptsTopic(t.checkpointCode, t.terminalId), { qos: 1 });
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'events');
    const events = scanEvents(t, 30);

    let release!: () => void;
    h.store.holdInserts = new Promise((resolve) => (release = resolve));
    const acknowledged = client.publishAsync(topic, batch(events), { qos: 1 });
    await expect.poll(() => h.store.insertCalls.length, pollDeadline).toBe(1);
    expect(receipts).toEqual([]); // the commit has not run: no receipt may say it did
    h.store.holdInserts = null;
    release();
    await acknowledged;
    await expect.poll(() => receipts, pollDeadline).toEqual([events.map((e) => e.seq)]);

    await client.publishAsync(topic, 'not json', { qos: 1 });
    await client.publishAsync(topic, batch(events.slice(0, 5)), { qos: 1, dup: true });
    await expect.poll(() => receipts.length, pollDeadline).toBe(2);
    expect(receipts[1]).toEqual([1, 2, 3, 4, 5]);
    expect(h.metric('qrgate_events_ingested_total')).toBe(30);
  });

  it('refuses wrong secrets, unknown and removed terminals with CONNACK 4, 4 and 5', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    expect(await h.connackCode(h.terminalOptions(t, { password: 'wrong' }))).toBe(4);
    expect(await h.connackCode(h.terminalOptions(t, { username: 'nobody', clientId: 'nobody' }))).toBe(4);
    await h.store.removeTerminal(t.terminalId);
    expect(await h.connackCode(h.terminalOptions(t))).toBe(5);
  });

  it('feeds the fleet view: connection, status, telemetry, last sequence', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'status'), status('online'), { qos: 1, retain: true });
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'telemetry'), telemetry(), { qos: 1 });
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(scanEvents(t, 3)), { qos: 1 });
    await expect
      .poll(async () => (await h.store.fleet()).find((f) => f.terminalId === t.terminalId), pollDeadline)
      .toMatchObject({ online: true, lastSeq: 3, telemetry: { outboxDepth: 0 }, gaps: [] });
    await client.endAsync();
    await expect.poll(async () => (await h.store.fleet()).find((f) => f.terminalId === t.terminalId)?.online, pollDeadline).toBe(false);
  });
});
