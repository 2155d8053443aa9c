import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { clusterSchema } from '../../../broker/config.js';
import { brokerPublish } from '../../../broker/mqtt/brokerPublish.js';
import { statusPayload } from '../../../gateway/uplink/payloads.js';
import { commandTopic, listManifestTopic, terminalTopic } from '../../../protocol/topics.js';
import { redisKeyCount, testRedisUrl, useRedisPrefix } from '../../helpers/redis.js';
import { TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { closed, useClusterNodes } from './brokerHarness.js';

/**
 * Two aedes nodes in this process sharing one Redis (mqemitter-redis and
 * aedes-persistence-redis) and one store, as real nodes share PostgreSQL: what one node
 * publishes reaches clients of the other, retained messages live in Redis, and a node that
 * lost a terminal to another cannot mark it offline.
 */
describe('a cluster of two broker nodes over one Redis', () => {
  const tempDir = useTempDir('qrgate-cluster-');
  const redisPrefix = useRedisPrefix();
  const startNode = useClusterNodes();

  async function twoNodes() {
    const keyPrefix = redisPrefix();
    const store = new TestCentralStore(join(tempDir(), 'central.db'));
    const a = await startNode(clusterSchema.parse({ redisUrl: testRedisUrl, nodeId: 'node-a', keyPrefix }), store);
    const b = await startNode(clusterSchema.parse({ redisUrl: testRedisUrl, nodeId: 'node-b', keyPrefix }), store);
    return { a, b, store, keyPrefix };
  }

  function collect(client: MqttClient): Array<{ topic: string; payload: string; retain: boolean }> {
    const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
    client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
    return seen;
  }

  it('gives a terminal on node B the list manifest node A retained, and the next one live', async () => {
    const { a, b } = await twoNodes();
    const terminal = await a.addTerminal(undefined, undefined, ['site-a']);
    const topic = listManifestTopic('site-a');
    await brokerPublish(a.broker.broker!, topic, Buffer.from('{"version":1}'), { retain: true });

    const client = await b.connectTerminal(terminal);
    const seen = collect(client);
    await client.subscribeAsync(topic, { qos: 1 });
    await waitFor(() => seen.some((m) => m.payload === '{"version":1}' && m.retain), 10_000, 'the retained manifest on node B');

    await brokerPublish(a.broker.broker!, topic, Buffer.from('{"version":2}'), { retain: true });
    await waitFor(() => seen.some((m) => m.payload === '{"version":2}'), 10_000, 'the next manifest live on node B');
    // A new subscriber, on either node, reads the latest one only.
    const late = await a.connectTerminal(await a.addTerminal(undefined, undefined, ['site-a']));
    const lateSeen = collect(late);
    await late.subscribeAsync(topic, { qos: 1 });
    await waitFor(() => lateSeen.length > 0, 10_000, 'the retained manifest on node A');
    expect(lateSeen.map((m) => m.payload)).toEqual(['{"version":2}']);
  });

  it('delivers a QoS 1 command published on node A to its terminal after it moved from A to B', async () => {
    const { a, b } = await twoNodes();
    const terminal = await a.addTerminal();
    const first = await a.connectTerminal(terminal);
    await first.subscribeAsync(commandTopic(terminal.checkpointCode, terminal.terminalId, '#'), { qos: 1 });
    await first.endAsync();

    const moved = await b.connectTerminal(terminal);
    const seen = collect(moved);
    await moved.subscribeAsync(commandTopic(terminal.checkpointCode, terminal.terminalId, '#'), { qos: 1 });
    await waitFor(() => b.broker.commandSubscriber(terminal.terminalId), 10_000, 'node B sees the command subscription');
    const id = randomUUID();
    await brokerPublish(a.broker.broker!, commandTopic(terminal.checkpointCode, terminal.terminalId, 'ping'), Buffer.from(JSON.stringify({ id })), { retain: false });
    await waitFor(() => seen.some((m) => m.payload.includes(id)), 10_000, 'the command on node B');
    expect(seen.filter((m) => m.payload.includes(id))).toHaveLength(1);
  });

  it('closes a terminal on node A when it logs in on node B, and keeps it online: A may not mark it offline', async () => {
    const { a, b, store } = await twoNodes();
    const terminal = await a.addTerminal();
    const statusTopic = terminalTopic(terminal.checkpointCode, terminal.terminalId, 'status');
    const bootId = randomUUID();
    const will = { topic: statusTopic, payload: Buffer.from(statusPayload('offline', bootId, Date.now())), qos: 1 as const, retain: true };
    const onA = await a.connectTerminal(terminal, { will });
    await onA.publishAsync(statusTopic, statusPayload('online', bootId, Date.now()), { qos: 1, retain: true });
    await waitFor(async () => (await b.broker.holders!.all()).get(terminal.terminalId) === 'node-a', 10_000, 'node A holds the terminal');

    // The link blinked: the terminal is back, on node B, before A noticed anything.
    const onB = await b.connectTerminal(terminal, { will });
    await onB.publishAsync(statusTopic, statusPayload('online', bootId, Date.now()), { qos: 1, retain: true });
    await closed(onA, 10_000); // aedes's takeover across nodes ($SYS/+/new/clients over Redis)
    await waitFor(() => a.log.messages('cluster.disconnect-outdated').length > 0, 10_000, "node A's disconnection found outdated");
    await waitFor(() => a.log.messages('cluster.status-outdated').length > 0, 10_000, "node A's will found outdated");

    expect((await a.broker.holders!.all()).get(terminal.terminalId)).toBe('node-b');
    expect(store.statuses.filter((s) => s.terminalId === terminal.terminalId).map((s) => s.status.state)).toEqual(['online', 'online']);
    expect(store.connections.filter((c) => c.terminalId === terminal.terminalId).map((c) => c.online)).toEqual([true, true]);

    // A clean goodbye on B is news: offline, recorded.
    await onB.publishAsync(statusTopic, statusPayload('offline', bootId, Date.now()), { qos: 1, retain: true });
    await onB.endAsync();
    await waitFor(() => store.connections.filter((c) => c.terminalId === terminal.terminalId).length === 3, 10_000, 'the disconnection on B recorded');
    expect(store.statuses.filter((s) => s.terminalId === terminal.terminalId).map((s) => s.status.state)).toEqual(['online', 'online', 'offline']);
  });

  it('leaves no per-message keys in Redis: 300 QoS 1 messages to a terminal, then as many keys as before', async () => {
    const { a, b, keyPrefix } = await twoNodes();
    const terminal = await a.addTerminal();
    const client = await b.connectTerminal(terminal);
    const seen = collect(client);
    await client.subscribeAsync(commandTopic(terminal.checkpointCode, terminal.terminalId, '#'), { qos: 1 });
    await waitFor(() => b.broker.commandSubscriber(terminal.terminalId), 10_000, 'subscribed');
    const before = await redisKeyCount(keyPrefix);
    for (let i = 0; i < 300; i++) await brokerPublish(a.broker.broker!, commandTopic(terminal.checkpointCode, terminal.terminalId, 'ping'), Buffer.from(`{"n":${i}}`), { retain: false });
    await waitFor(() => seen.length === 300, 20_000, 'all 300 delivered');
    await waitFor(async () => (await redisKeyCount(keyPrefix)) <= before, 10_000, `no more keys than before (${before})`);
  });
});
