import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { Observer, PublishGate, TERMINAL_ID, TestBroker, uplinkRig } from './rig.js';

/**
 * `central.urls`: a terminal given several central nodes (issue 15 point 6) leaves a node
 * that died for the next one, and its outbox arrives whole and once: what the dead node never
 * acknowledged is sent again to the live one, nothing it did acknowledge is.
 */
describe('Uplink fails over between the brokers of central.urls', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function brokerWithGate() {
    const gate = new PublishGate();
    const broker = await TestBroker.start({ authorizePublish: gate.authorizePublish });
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => broker.kill().catch(() => undefined));
    return { gate, broker, observer };
  }

  it('moves to the other broker when the one in use is killed, and delivers its outbox exactly once', async () => {
    const nodes = [await brokerWithGate(), await brokerWithGate()];
    const log = captureLogger();
    const r = uplinkRig({
      dataDir: tempDir(),
      url: '',
      logger: log.logger,
      central: { url: undefined, urls: nodes.map((n) => n.broker.url), reconnectMinMs: 50, reconnectMaxMs: 400 },
    });
    cleanups.push(() => r.db.close());
    cleanups.push(() => r.uplink.stop());
    r.uplink.start();
    const first = await waitFor(() => nodes.find((n) => n.broker.clients.has(TERMINAL_ID)), 10_000, 'connected to one of the two');
    const second = nodes.find((n) => n !== first)!;

    // Acknowledged by the first node: gone from the outbox, never to be sent again.
    first.gate.openUp();
    const acked = r.record(20).map((e) => e.seq);
    await waitFor(() => r.depth() === 0 && first.observer.events().length === 20, 10_000, 'the first 20 acknowledged by the first node');
    // Then the first node holds everything without a PUBACK, and dies holding it.
    const closedGate = new PublishGate();
    first.broker.aedes.authorizePublish = closedGate.authorizePublish;
    const unacked = r.record(30).map((e) => e.seq);
    await waitFor(() => closedGate.arrivals > 0, 10_000, 'the next batches in flight to the first node');
    second.gate.openUp();
    const killedAt = Date.now();
    await first.broker.kill();

    await waitFor(() => second.broker.clients.has(TERMINAL_ID) && r.uplink.connected, 10_000, 'reconnected to the second node within 10 s');
    const reconnectMs = Date.now() - killedAt;
    const later = r.record(10).map((e) => e.seq);
    await waitFor(() => r.depth() === 0, 10_000, 'outbox drained into the second node');
    await waitFor(() => second.observer.events().length >= 40, 10_000, 'the second node routed what it acknowledged');

    expect(first.observer.events().map((e) => e.seq)).toEqual(acked);
    // Exactly once: every event the first node never acknowledged, and the new ones, on the second, once each.
    const onSecond = second.observer.events().map((e) => e.seq);
    expect([...onSecond].sort((x, y) => x - y)).toEqual([...unacked, ...later]);
    expect(new Set(onSecond).size).toBe(onSecond.length);
    expect(log.messages('uplink.connected').map((l) => l.broker)).toEqual([first.broker.url, second.broker.url]);
    console.info(`failover: reconnected to the other broker ${reconnectMs} ms after the kill`);
  });

  it('keeps central.url working, refuses both url and urls, and names a missing broker', async () => {
    const { uplinkConfigSchema, brokerUrls } = await import('../../../gateway/uplink/config.js');
    const base = { username: TERMINAL_ID, password: 'secret-1' };
    expect(brokerUrls(uplinkConfigSchema.parse({ ...base, url: 'mqtt://a:1883' }))).toEqual(['mqtt://a:1883']);
    expect(brokerUrls(uplinkConfigSchema.parse({ ...base, urls: ['mqtt://a:1883', 'mqtt://b:1883'] }))).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    const both = uplinkConfigSchema.safeParse({ ...base, url: 'mqtt://a:1883', urls: ['mqtt://b:1883'] });
    expect(both.error?.issues.map((i) => i.path.join('.'))).toEqual(['urls']);
    const none = uplinkConfigSchema.safeParse(base);
    expect(none.error?.issues.map((i) => i.path.join('.'))).toEqual(['url']);
    const badSecond = uplinkConfigSchema.safeParse({ ...base, urls: ['mqtt://a:1883', 'http://b'] });
    expect(badSecond.error?.issues.map((i) => i.path.join('.'))).toEqual(['urls.1']);
    const tlsOnPlain = uplinkConfigSchema.safeParse({ ...base, urls: ['mqtts://a:8883', 'mqtt://b:1883'], ca: 'ca.pem' });
    expect(tlsOnPlain.error?.issues.map((i) => i.path.join('.'))).toEqual(['ca']);
  });
});
