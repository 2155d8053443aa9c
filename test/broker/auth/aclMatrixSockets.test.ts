import type { AedesPublishPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import { describe, it, expect } from 'vitest';
import type { Principal } from '../../../broker/auth/acl.js';
import { parseTopic, terminalTopic } from '../../../protocol/topics.js';
import { closed, useBroker, type BrokerHarness, type TestTerminal } from '../mqtt/brokerHarness.js';
import { batch, commandAck, pendingHeld, scanEvents, status, telemetry } from '../mqtt/fixtures.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';
import { actions, everyone, expected, matrix, principals, show, X, Y, type Action, type Who } from './aclMatrixTable.js';

/**
 * The ACL table of aclMatrixTable.ts (aclMatrix.test.ts holds it to the pure functions) over
 * real sockets against a real broker, where
 *   - publish refused  = acknowledged, neither delivered nor stored [MQTT-3.3.5-2], or the
 *                        connection closed for a topic name with a wildcard (aedes'
 *                        answer to [MQTT-4.7.1-1]);
 *   - subscribe refused = SUBACK 0x80 for that filter [MQTT-3.8.4-5], [MQTT-3.9.3-2];
 *   - will refused      = CONNACK 5 (authenticate.ts).
 */

/** Every message aedes routes, seen from inside the broker; `$SYS/` (its own news, our dropped publishes) left out. */
function observe(h: BrokerHarness): string[] {
  const seen: string[] = [];
  h.broker.broker!.subscribe(
    '#',
    (packet: AedesPublishPacket, done: () => void) => {
      if (!packet.topic.startsWith('$')) seen.push(packet.topic);
      done();
    },
    () => undefined,
  );
  return seen;
}

/** A valid payload for the topic, so an allowed publish is delivered or stored, not dropped as malformed. */
function payloadFor(topic: string): string {
  const parsed = parseTopic(topic);
  if (parsed?.kind === 'events') return batch(scanEvents(parsed, 1));
  if (parsed?.kind === 'status') return status('online');
  if (parsed?.kind === 'telemetry') return telemetry();
  if (parsed?.kind === 'pending') return pendingHeld();
  if (parsed?.kind === 'cmd-acks') return commandAck();
  return '{}';
}

const hasWildcard = (topic: string): boolean => /[+#]/.test(topic);

interface World {
  readonly h: BrokerHarness;
  /** Every topic aedes has routed so far. */
  readonly seen: string[];
  readonly terminals: Partial<Record<Who, TestTerminal>>;
  connect(who: Who, will?: string): Promise<MqttClient>;
}

describe('ACL matrix: over real sockets against a real broker', () => {
  const startBroker = useBroker();

  /** One broker in lab mode (so the lab principal exists) with the five terminals of the table. */
  async function world(): Promise<World> {
    const h = await startBroker({ lab: true });
    for (const code of [X, Y]) await h.store.createCheckpoint({ code, name: `Gate ${code}`, direction: 'both', confirm: 'auto' });
    const terminals: Partial<Record<Who, TestTerminal>> = {};
    for (const who of everyone) {
      const p: Principal = principals[who];
      if (p.kind !== 'terminal') continue;
      terminals[who] = await h.addTerminal(p.checkpointCode, p.terminalId, p.listScopes ?? []);
      if (p.listScopes === null) h.store.forgetListScopes(p.terminalId); // as a row from before SQLite schema 3
    }
    let labClients = 0;
    const connect = (who: Who, willTopic?: string): Promise<MqttClient> => {
      const will = willTopic === undefined ? {} : { will: { topic: willTopic, payload: Buffer.from(payloadFor(willTopic)), qos: 1 as const, retain: false } };
      const terminal = terminals[who];
      return terminal ? h.connectTerminal(terminal, will) : h.connect({ clientId: `lab-${++labClients}`, ...will });
    };
    return { h, seen: observe(h), terminals, connect };
  }

  /** Publishes `topic` as `who` and tells whether the broker carried it out. */
  async function published(w: World, client: MqttClient, who: Who, topic: string): Promise<boolean> {
    const from = w.seen.length;
    const routed = (): string[] => w.seen.slice(from);
    const storedBefore = w.h.store.eventCount();
    const refusedBefore = w.h.metric('qrgate_mqtt_publish_refused_total');
    if (hasWildcard(topic)) {
      // aedes closes a client that PUBLISHes a wildcard [MQTT-4.7.1-1]: refused, on a connection of its own.
      client.publish(topic, payloadFor(topic), { qos: 1 }, () => undefined);
      await closed(client);
      return routed().includes(topic) || w.h.store.eventCount() > storedBefore;
    }
    await client.publishAsync(topic, payloadFor(topic), { qos: 1 }); // acknowledged either way
    // A barrier: the next allowed message from the same client is routed after the one under test.
    const p: Principal = principals[who];
    const barrier = p.kind === 'terminal' ? terminalTopic(p.checkpointCode, p.terminalId, 'telemetry') : 'lab/barrier';
    await client.publishAsync(barrier, telemetry(), { qos: 1 });
    const ownTelemetry = topic === barrier ? 1 : 0; // the row under test is the barrier topic itself
    await expect.poll(() => routed().filter((t) => t === barrier).length, pollDeadline).toBeGreaterThanOrEqual(1 + ownTelemetry);
    const delivered = routed().filter((t) => t === topic).length > ownTelemetry;
    const stored = w.h.store.eventCount() > storedBefore;
    const refused = w.h.metric('qrgate_mqtt_publish_refused_total') > refusedBefore;
    expect(client.connected).toBe(true);
    // Either carried out (delivered or stored) or counted as refused, never both, never neither.
    expect(delivered || stored).toBe(!refused);
    return delivered || stored;
  }

  const run: Record<Action, (w: World, who: Who) => Promise<string[]>> = {
    async publish(w, who) {
      const answers: string[] = [];
      let client = await w.connect(who);
      for (const [topic] of matrix) {
        answers.push(show(topic, await published(w, client, who, topic)));
        if (!client.connected) client = await w.connect(who);
      }
      return answers;
    },
    async subscribe(w, who) {
      const client = await w.connect(who);
      const answers: string[] = [];
      for (const [topic] of matrix) {
        const granted = await client.subscribeAsync(topic, { qos: 1 }).then(
          (grants) => grants[0]?.qos === 1,
          (err: { packet?: { granted?: number[] } }) => {
            expect(err.packet?.granted).toEqual([0x80]);
            return false;
          },
        );
        expect(client.connected).toBe(true);
        answers.push(show(topic, granted));
      }
      expect(w.h.metric('qrgate_mqtt_subscribe_refused_total')).toBe(answers.filter((a) => a.endsWith('refused')).length);
      return answers;
    },
    async will(w, who) {
      const answers: string[] = [];
      for (const [topic] of matrix) {
        // One connection per will, one at a time: a second connection with the same client id would take the first over.
        const admitted = await w.connect(who, topic).then(
          async (client) => {
            await client.endAsync(); // a clean DISCONNECT: the will is discarded [MQTT-3.1.2-10]
            return true;
          },
          (err: { code?: number }) => {
            expect(err.code).toBe(5);
            return false;
          },
        );
        answers.push(show(topic, admitted));
      }
      return answers;
    },
  };

  it.each(everyone.flatMap((who) => actions.map((action) => [who, action] as const)))(
    '%s %s: every topic of the table answered as written',
    async (who, action) => {
      const w = await world();
      expect(await run[action](w, who)).toEqual(expected(who, action));
    },
    60_000,
  );
});
