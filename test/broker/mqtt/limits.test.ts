import { describe, it, expect } from 'vitest';
import { terminalTopic } from '../../../protocol/topics.js';
import { closed, useBroker } from './brokerHarness.js';
import { batch, scanEvents } from './fixtures.js';
import { connectPacket, rawConnect, remainingLength, subscribePacket } from './rawMqtt.js';

/** A hostile or broken client loses its own connection and nothing else. */
describe('broker limits', () => {
  const startBroker = useBroker();

  async function twoTerminals(overrides: Parameters<typeof startBroker>[0] = {}) {
    const h = await startBroker(overrides);
    const bad = await h.addTerminal();
    const good = await h.addTerminal(bad.checkpointCode);
    return { h, bad, good, badClient: await h.connectTerminal(bad), goodClient: await h.connectTerminal(good) };
  }

  async function stillServes(h: Awaited<ReturnType<typeof twoTerminals>>): Promise<void> {
    const events = scanEvents(h.good, 2);
    await h.goodClient.publishAsync(terminalTopic(h.good.checkpointCode, h.good.terminalId, 'events'), batch(events), { qos: 1 });
    expect(h.h.store.events.has(events[0]!.id)).toBe(true);
  }

  it('closes the connection that sends a packet above mqtt.maxPacketBytes, and only that one', async () => {
    const w = await twoTerminals({ mqtt: { maxPacketBytes: 4096 } });
    void w.badClient.publishAsync(terminalTopic(w.bad.checkpointCode, w.bad.terminalId, 'events'), 'x'.repeat(5000), { qos: 1 }).catch(() => undefined);
    await closed(w.badClient);
    await expect.poll(() => w.h.log.messages('mqtt.client-error').map((l) => l.code)).toContain('packet-too-large');
    expect(w.h.store.events.size).toBe(0);
    await stillServes(w);
  });

  it('closes a connection announcing a 256 MB packet before its CONNECT completes', async () => {
    const h = await startBroker();
    const raw = await rawConnect(h.port);
    raw.socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(268_435_455)]));
    await raw.closed;
    expect(raw.received().length).toBe(0);
  });

  it('closes the connection that publishes deeper than maxTopicLevels, and only that one', async () => {
    const w = await twoTerminals();
    const deep = `${terminalTopic(w.bad.checkpointCode, w.bad.terminalId, 'events')}/a/b`;
    void w.badClient.publishAsync(deep, batch(scanEvents(w.bad, 1)), { qos: 1 }).catch(() => undefined);
    await closed(w.badClient);
    await stillServes(w);
  });

  it('closes the connection that subscribes deeper than maxTopicLevels, and only that one', async () => {
    const w = await twoTerminals();
    const raw = await rawConnect(w.h.port);
    raw.socket.write(connectPacket(w.bad.terminalId, true, { username: w.bad.terminalId, password: w.bad.secret }));
    await expect.poll(() => raw.received().length).toBe(4);
    raw.socket.write(subscribePacket(1, ['qrgate/v1/lists/default/a/b/c/d/e/f']));
    await raw.closed;
    await stillServes(w);
  });

  it('drops a client that stops reading once mqtt.drainTimeoutMs passes', async () => {
    const h = await startBroker({ lab: true, mqtt: { drainTimeoutMs: 1000 } });
    const frozen = await rawConnect(h.port);
    frozen.socket.write(connectPacket('frozen', true));
    frozen.socket.write(subscribePacket(1, ['flood/#']));
    await expect.poll(() => frozen.received().length).toBeGreaterThanOrEqual(9); // CONNACK + SUBACK
    frozen.socket.pause(); // stop reading: the kernel buffers fill, then the broker's
    const publisher = await h.connect({ clientId: 'publisher' });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const dropped = (): boolean => h.log.messages('mqtt.client-disconnected').some((l) => l.clientId === 'frozen');
    for (let i = 0; i < 2000 && !dropped(); i++) await publisher.publishAsync('flood/x', chunk, { qos: 0 });
    await expect.poll(dropped, { timeout: 10_000 }).toBe(true);
    const reported = h.log.messages('mqtt.client-error').filter((l) => l.clientId === 'frozen' && l.level === 30);
    expect(reported.map((l) => l.reason)).toEqual(['drain timeout']); // once, not once per pending write
    frozen.socket.resume(); // reading again, it finds the connection closed
    await frozen.closed;
    expect(publisher.connected).toBe(true);
  });

  it('lab mode: anonymous clients talk on any topic', async () => {
    const h = await startBroker({ lab: true });
    const listener = await h.connect({ clientId: 'listener' });
    await listener.subscribeAsync('lab/#', { qos: 1 });
    const received = new Promise<string>((resolve) => listener.once('message', (_topic, payload) => resolve(payload.toString())));
    const talker = await h.connect({ clientId: 'talker' });
    await talker.publishAsync('lab/hello', 'hi', { qos: 1 });
    expect(await received).toBe('hi');
  });
});
