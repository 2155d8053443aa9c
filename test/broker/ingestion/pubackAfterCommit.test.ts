import type { IPublishPacket, Packet } from 'mqtt';
import { describe, it, expect } from 'vitest';
import { terminalTopic } from '../../../protocol/topics.js';
import { closed, useBroker } from '../mqtt/brokerHarness.js';
import { batch, scanEvents } from '../mqtt/fixtures.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/**
 * DESIGN.md "A PUBACK is not a receipt": the central stores a batch before aedes writes
 * its PUBACK, so a PUBACK the terminal sees means the events are in the store.
 */
describe('ingestion: the PUBACK comes after the commit', () => {
  const startBroker = useBroker();

  it('has the batch in the store when publishAsync resolves', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const events = scanEvents(t, 50);
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(events), { qos: 1 });
    // No wait of any kind: the PUBACK itself is the proof.
    expect(h.store.eventIds()).toEqual(events.map((e) => e.id));
    expect(h.metric('qrgate_events_ingested_total')).toBe(50);
  });

  it('holds the PUBACK while the commit is still running', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    let release!: () => void;
    h.store.holdInserts = new Promise<void>((resolve) => (release = resolve));
    const client = await h.connectTerminal(t);
    let acked = false;
    const publishing = client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(scanEvents(t, 3)), { qos: 1 }).then(() => {
      acked = true;
    });
    h.onStop(release); // never leave the broker's stop waiting on a held commit
    await expect.poll(() => h.store.insertCalls.length, pollDeadline).toBe(1);
    // A full round trip through the same broker on another connection: time enough for a
    // PUBACK to arrive if the broker had sent one.
    const other = await h.connectTerminal(await h.addTerminal(t.checkpointCode));
    await other.subscribeAsync('qrgate/v1/lists/default/#', { qos: 1 });
    expect(acked).toBe(false);
    expect(h.store.eventCount()).toBe(0);
    release();
    await publishing;
    expect(h.store.eventCount()).toBe(3);
  });

  it('does not acknowledge when the store fails; the redelivery after reconnecting is stored once', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    h.store.failInsertsWith = new Error('disk full');
    const client = await h.connectTerminal(t, { reconnectPeriod: 50 });
    const events = scanEvents(t, 5);
    let acked = false;
    const publishing = client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(events), { qos: 1 }).then(() => {
      acked = true;
    });
    await closed(client);
    expect(acked).toBe(false);
    expect(h.metric('qrgate_ingest_commit_failures_total')).toBeGreaterThanOrEqual(1);
    expect(h.log.messages('ingest.commit-failed').length).toBeGreaterThanOrEqual(1);

    h.store.failInsertsWith = null;
    await publishing; // mqtt.js resends the unacknowledged PUBLISH after reconnecting
    expect(h.store.eventCount()).toBe(5);
    expect(h.metric('qrgate_events_ingested_total')).toBe(5);
  });

  it('stores a redelivered batch once and counts the duplicates', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'events');
    const events = scanEvents(t, 10);
    await client.publishAsync(topic, batch(events), { qos: 1 });
    await client.publishAsync(topic, batch(events), { qos: 1, dup: true });
    await client.publishAsync(topic, batch([...events.slice(5), ...scanEvents(t, 2, 11)]), { qos: 1 });
    expect(h.store.eventCount()).toBe(12);
    expect(h.metric('qrgate_events_ingested_total')).toBe(12);
    expect(h.metric('qrgate_events_duplicate_total')).toBe(15);
  });

  it('commits publishes from many terminals together', async () => {
    const h = await startBroker({ ingest: { commitDelayMs: 50, commitMaxEvents: 2000 } });
    const code = await h.addCheckpoint();
    const terminals = await Promise.all(Array.from({ length: 8 }, () => h.addTerminal(code)));
    const clients = await Promise.all(terminals.map((t) => h.connectTerminal(t)));
    await Promise.all(
      clients.map((client, i) => client.publishAsync(terminalTopic(code, terminals[i]!.terminalId, 'events'), batch(scanEvents(terminals[i]!, 20)), { qos: 1 })),
    );
    expect(h.store.eventCount()).toBe(160);
    expect(h.store.insertCalls.length).toBeLessThan(8);
  });

  it('acknowledges a client\'s publishes in the order they arrived [MQTT-4.6.0-2]', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    let release!: () => void;
    h.store.holdInserts = new Promise<void>((resolve) => (release = resolve));
    h.onStop(release);
    const client = await h.connectTerminal(t);
    const sent: number[] = [];
    const acked: number[] = [];
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'publish') sent.push((packet as IPublishPacket).messageId!);
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'puback') acked.push(packet.messageId!);
    });
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'events');
    const good = client.publishAsync(topic, batch(scanEvents(t, 1)), { qos: 1 });
    const malformed = client.publishAsync(topic, 'not json', { qos: 1 }); // judged at once
    await expect.poll(() => h.metric('qrgate_messages_malformed_total'), pollDeadline).toBe(1);
    expect(acked).toEqual([]);
    release();
    await Promise.all([good, malformed]);
    expect(acked).toEqual(sent);
  });

  it('commits what is waiting when the broker stops', async () => {
    const h = await startBroker({ ingest: { commitDelayMs: 1000, commitMaxEvents: 2000 } });
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    void client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(scanEvents(t, 4)), { qos: 1 }).catch(() => undefined);
    await expect.poll(() => h.log.messages('ingest.batch-queued').length, pollDeadline).toBe(1);
    expect(h.store.eventCount()).toBe(0); // waiting for company, a second to go
    await h.broker.stop();
    expect(h.store.eventCount()).toBe(4);
  });
});
