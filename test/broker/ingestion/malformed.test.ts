import { describe, it, expect } from 'vitest';
import type { TerminalIdentity } from '../mqtt/fixtures.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/**
 * A poison message is counted, logged without its payload, acknowledged and dropped; the
 * broker and the same connection carry on.
 */

type BadBatch = readonly [what: string, payload: (t: TerminalIdentity) => string, reason: RegExp];

const badBatches: readonly BadBatch[] = [
  ['not JSON', () => '{"v":1,"events":[', /^not JSON$/],
  ['JSON of the wrong shape', () => JSON.stringify({ v: 1, events: 'SECRET-PAYLOAD' }), /^schema: events: /],
  ['an empty batch', () => JSON.stringify({ v: 1, events: [] }), /^schema: events: /],
  ['an unknown version', (t) => JSON.stringify({ v: 2, events: scanEvents(t, 1) }), /^schema: v: /],
  ['an event with an extra field', (t) => JSON.stringify({ v: 1, events: scanEvents(t, 1), 'SECRET-KEY': 1 }), /unrecognized key/],
  ['an invalid event', (t) => batch(scanEvents(t, 2).map((e, i) => (i === 1 ? { ...e, seq: -1 } : e))), /^schema: events\[1\]\.seq: /],
  ['events claiming another terminal', (t) => batch(scanEvents({ ...t, terminalId: 'someone-else' }, 2)), /terminalId is not the publishing terminal/],
  ['events claiming another checkpoint', (t) => batch(scanEvents({ ...t, checkpointCode: '20000000000004' }, 1)), /checkpointCode is not/],
];

describe('ingestion: malformed payloads', () => {
  const startBroker = useBroker();

  it.each(badBatches)('drops a batch with %s and keeps the connection', async (_what, payloadOf, reason) => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'events');
    await client.publishAsync(topic, payloadOf(t), { qos: 1 });

    expect(h.store.eventCount()).toBe(0);
    expect(h.metric('qrgate_messages_malformed_total')).toBe(1);
    const logged = h.log.messages('ingest.malformed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ terminalId: t.terminalId, kind: 'events' });
    expect(String(logged[0]!.reason)).toMatch(reason);
    expect(JSON.stringify(h.log.lines)).not.toContain('SECRET');

    // Same client, same connection: the next good batch goes in.
    expect(client.connected).toBe(true);
    await client.publishAsync(topic, batch(scanEvents(t, 3)), { qos: 1 });
    expect(h.store.eventCount()).toBe(3);
  });

  it('drops a malformed status (nothing retained) and records a good one', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'status');
    await client.publishAsync(topic, '{"v":1,"state":"sleepy"}', { qos: 1, retain: true });
    expect(h.metric('qrgate_messages_malformed_total')).toBe(1);
    expect(h.store.statuses).toEqual([]);
    await client.publishAsync(topic, status('online'), { qos: 1, retain: true });
    expect(h.store.statuses).toMatchObject([{ terminalId: t.terminalId, status: { state: 'online' } }]);
  });

  it('drops malformed telemetry and records good telemetry, QoS 0 included', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'telemetry');
    await client.publishAsync(topic, '[]', { qos: 0 });
    await expect.poll(() => h.metric('qrgate_messages_malformed_total'), pollDeadline).toBe(1);
    await client.publishAsync(topic, telemetry(), { qos: 0 });
    await expect.poll(() => h.store.telemetry.length, pollDeadline).toBe(1);
    expect(h.store.telemetry[0]).toMatchObject({ terminalId: t.terminalId, telemetry: { outboxDepth: 0 } });
  });

  it('records the will as the offline status when a terminal vanishes', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const topic = terminalTopic(t.checkpointCode, t.terminalId, 'status');
    const client = await h.connectTerminal(t, { will: { topic, payload: Buffer.from(status('offline')), qos: 1, retain: true } });
    client.stream.destroy(); // no DISCONNECT: the broker publishes the will [MQTT-3.1.2-8]
    await expect.poll(() => h.store.statuses.map((s) => s.status.state), pollDeadline).toEqual(['offline']);
    await expect.poll(() => h.store.connections, pollDeadline).toEqual([
      { terminalId: t.terminalId, online: true },
      { terminalId: t.terminalId, online: false },
    ]);
  });
});
