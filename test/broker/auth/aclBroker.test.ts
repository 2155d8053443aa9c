import type { AedesPublishPacket } from 'aedes';
import { describe, it, expect } from 'vitest';
import { commandTopic, listManifestTopic, terminalTopic } from '../../../protocol/topics.js';
import { useBroker, type BrokerHarness, type TestTerminal } from '../mqtt/brokerHarness.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';
import { connectPacket, rawConnect, subscribePacket } from '../mqtt/rawMqtt.js';

/**
 * The ACL over real sockets: what a terminal may publish and subscribe to, and what
 * happens otherwise (MQTT 3.1.1: a refused PUBLISH is acknowledged and not delivered
 * [MQTT-3.3.5-2]; a refused filter gets 0x80 in the SUBACK [MQTT-3.8.4-5]; the client stays connected).
 */

/** Every message aedes routes, seen from inside the broker. */
function observe(h: BrokerHarness): string[] {
  const seen: string[] = [];
  h.broker.broker!.subscribe(
    '#',
    (packet: AedesPublishPacket, done: () => void) => {
      seen.push(packet.topic);
      done();
    },
    () => undefined,
  );
  return seen;
}

interface World {
  readonly h: BrokerHarness;
  readonly a: TestTerminal;
  readonly b: TestTerminal;
}

type PublishCase = readonly [what: string, outcome: 'delivered' | 'stored' | 'dropped', topic: (w: World) => string, payload: (w: World) => string];

const publishCases: readonly PublishCase[] = [
  ['its own events', 'stored', (w) => terminalTopic(w.a.checkpointCode, w.a.terminalId, 'events'), (w) => batch(scanEvents(w.a, 2))],
  ['its own status', 'delivered', (w) => terminalTopic(w.a.checkpointCode, w.a.terminalId, 'status'), () => status('online')],
  ['its own telemetry', 'delivered', (w) => terminalTopic(w.a.checkpointCode, w.a.terminalId, 'telemetry'), () => telemetry()],
  ["B's events, as B", 'dropped', (w) => terminalTopic(w.b.checkpointCode, w.b.terminalId, 'events'), (w) => batch(scanEvents(w.b, 2))],
  ["B's status", 'dropped', (w) => terminalTopic(w.b.checkpointCode, w.b.terminalId, 'status'), () => status('offline')],
  ["B's telemetry", 'dropped', (w) => terminalTopic(w.b.checkpointCode, w.b.terminalId, 'telemetry'), () => telemetry()],
  ["a command to B", 'dropped', (w) => commandTopic(w.b.checkpointCode, w.b.terminalId, 'open'), () => '{}'],
  ['a command to itself', 'dropped', (w) => commandTopic(w.a.checkpointCode, w.a.terminalId, 'open'), () => '{}'],
  ['a list topic', 'dropped', () => 'qrgate/v1/lists/default/manifest', () => '{}'],
  ['its own id under another checkpoint', 'dropped', (w) => terminalTopic('20000000000004', w.a.terminalId, 'status'), () => status('online')],
  ['a topic outside qrgate', 'dropped', () => 'some/other/topic', () => 'x'],
  ['$SYS', 'dropped', () => '$SYS/fake/heartbeat', () => 'x'],
];

type SubscribeCase = readonly [what: string, filter: (w: World) => string, granted: boolean];

const subscribeCases: readonly SubscribeCase[] = [
  ['its own cmd/#', (w) => `qrgate/v1/cp/${w.a.checkpointCode}/t/${w.a.terminalId}/cmd/#`, true],
  ['one of its own commands', (w) => commandTopic(w.a.checkpointCode, w.a.terminalId, 'open'), true],
  ['its own list scope', () => 'qrgate/v1/lists/default/#', true], // the harness provisions `default`
  ["another scope's manifest", () => listManifestTopic('site-b'), false],
  ['another list scope', () => 'qrgate/v1/lists/site-b/#', false],
  ["B's cmd/#", (w) => `qrgate/v1/cp/${w.b.checkpointCode}/t/${w.b.terminalId}/cmd/#`, false],
  ["one of B's commands", (w) => commandTopic(w.b.checkpointCode, w.b.terminalId, 'open'), false],
  ["every terminal's commands", (w) => `qrgate/v1/cp/${w.a.checkpointCode}/t/+/cmd/#`, false],
  ["B's events", (w) => terminalTopic(w.b.checkpointCode, w.b.terminalId, 'events'), false],
  ['qrgate/v1/#', () => 'qrgate/v1/#', false],
  ['#', () => '#', false],
  ['$SYS/#', () => '$SYS/#', false],
];

describe('ACL over MQTT: terminal A next to terminal B', () => {
  const startBroker = useBroker();

  async function world(): Promise<World> {
    const h = await startBroker();
    const a = await h.addTerminal();
    const b = await h.addTerminal(a.checkpointCode);
    return { h, a, b };
  }

  it.each(publishCases)('publishing %s: %s', async (_what, outcome, topicOf, payloadOf) => {
    const w = await world();
    const seen = observe(w.h);
    const client = await w.h.connectTerminal(w.a);
    const topic = topicOf(w);
    await client.publishAsync(topic, payloadOf(w), { qos: 1 }); // acknowledged in every case

    // A barrier: A's next allowed message is routed after the one under test.
    const barrier = terminalTopic(w.a.checkpointCode, w.a.terminalId, 'telemetry');
    await client.publishAsync(barrier, telemetry(), { qos: 1 });
    await expect.poll(() => seen.filter((t) => t === barrier).length).toBeGreaterThan(outcome === 'delivered' && topic === barrier ? 1 : 0);

    expect(seen.includes(topic)).toBe(outcome === 'delivered');
    expect(w.h.store.events.size).toBe(outcome === 'stored' ? 2 : 0);
    expect(w.h.metric('qrgate_mqtt_publish_refused_total')).toBe(outcome === 'dropped' ? 1 : 0);
    expect(client.connected).toBe(true);
  });

  it.each(subscribeCases)('subscribing to %s: granted %s', async (_what, filterOf, granted) => {
    const w = await world();
    const client = await w.h.connectTerminal(w.a);
    const subscribing = client.subscribeAsync(filterOf(w), { qos: 1 });
    if (granted) expect((await subscribing)[0]?.qos).toBe(1);
    else await expect(subscribing).rejects.toMatchObject({ packet: { granted: [0x80] } });
    expect(client.connected).toBe(true);
    expect(w.h.metric('qrgate_mqtt_subscribe_refused_total')).toBe(granted ? 0 : 1);
  });

  it('one SUBSCRIBE with an allowed and a refused filter gets one return code each', async () => {
    const w = await world();
    // Raw bytes: mqtt.js may split a SUBSCRIBE, this must be one packet with three filters.
    const raw = await rawConnect(w.h.port);
    raw.socket.write(connectPacket(w.a.terminalId, true, { username: w.a.terminalId, password: w.a.secret }));
    await expect.poll(() => [...raw.received()]).toEqual([0x20, 0x02, 0x00, 0x00]);
    const own = `qrgate/v1/cp/${w.a.checkpointCode}/t/${w.a.terminalId}/cmd/#`;
    raw.socket.write(subscribePacket(7, [own, '#', 'qrgate/v1/lists/default/#']));
    await expect.poll(() => [...raw.received().subarray(4)]).toEqual([0x90, 0x05, 0x00, 0x07, 0x01, 0x80, 0x01]);
    raw.socket.destroy();
  });

  it('a terminal added before scopes were recorded keeps any scope, and the central names it once', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    h.store.terminals.get(t.terminalId)!.listScopes = null; // as a row from before SQLite schema 3
    for (let connect = 0; connect < 2; connect++) {
      const client = await h.connectTerminal(t);
      expect((await client.subscribeAsync(listManifestTopic('site-b'), { qos: 1 }))[0]?.qos).toBe(1);
      await client.endAsync();
    }
    // Logged before the CONNACK is sent: no waiting needed.
    expect(h.log.messages('auth.list-scopes-unknown')).toEqual([expect.objectContaining({ level: 40, terminalId: t.terminalId, checkpointCode: t.checkpointCode })]);
    await h.connectTerminal(await h.addTerminal(t.checkpointCode)); // scopes recorded: not named
    expect(h.log.messages('auth.list-scopes-unknown')).toHaveLength(1);
  });

  it('terminal B never receives what A publishes to B\'s command topic, but does receive the central\'s command', async () => {
    const w = await world();
    const b = await w.h.connectTerminal(w.b);
    const received: string[] = [];
    b.on('message', (topic) => received.push(topic));
    await b.subscribeAsync(`qrgate/v1/cp/${w.b.checkpointCode}/t/${w.b.terminalId}/cmd/#`, { qos: 1 });
    const a = await w.h.connectTerminal(w.a);
    await a.publishAsync(commandTopic(w.b.checkpointCode, w.b.terminalId, 'open'), '{"forged":true}', { qos: 1 });
    // The central's own publish goes through aedes directly, after A's.
    await new Promise<void>((resolve, reject) =>
      w.h.broker.broker!.publish({ cmd: 'publish', topic: commandTopic(w.b.checkpointCode, w.b.terminalId, 'ping'), payload: Buffer.from('{}'), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    await expect.poll(() => received).toEqual([commandTopic(w.b.checkpointCode, w.b.terminalId, 'ping')]);
  });
});
