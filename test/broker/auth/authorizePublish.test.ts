import type { Client, PublishPacket } from 'aedes';
import { describe, it, expect } from 'vitest';
import { createAuthorizePublish } from '../../../broker/auth/authorizePublish.js';
import { Sessions } from '../../../broker/auth/sessions.js';
import { Ingestion } from '../../../broker/ingestion/ingestion.js';
import { AckOrder } from '../../../broker/mqtt/ackOrder.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { droppedTopic } from '../../../broker/mqtt/dropPublish.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { status } from '../mqtt/fixtures.js';

/**
 * The hook without a socket, for what a socket cannot easily produce: aedes publishing a
 * will it restored from persistence with `client === null` (a terminal whose broker node
 * died), and the exact rewrite of a dropped packet.
 */
const testStore = useTestStore();

async function setup() {
  const store = await testStore();
  const registry = new MemoryMetrics();
  const log = captureLogger();
  const metrics = createBrokerMetrics(registry);
  const sessions = new Sessions();
  const ingestion = new Ingestion({ store, metrics, logger: log.logger, commit: { maxDelayMs: 1, maxEvents: 100 } });
  const hook = createAuthorizePublish({ sessions, ingestion, ackOrder: new AckOrder<Client>(), metrics, logger: log.logger });
  const authorize = (client: Client | null, packet: PublishPacket) =>
    new Promise<Error | null>((resolve) => hook(client, packet, (error) => resolve(error ?? null)));
  return { store, registry, sessions, authorize };
}

function publish(topic: string, payload: string, retain = true): PublishPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false };
}

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
const statusTopic = terminalTopic(who.checkpointCode, who.terminalId, 'status');

describe('authorizePublish with client === null (a will aedes restored)', () => {
  it('lets a terminal\'s offline status through and records it', async () => {
    const s = await setup();
    const packet = publish(statusTopic, status('offline'));
    expect(await s.authorize(null, packet)).toBeNull();
    expect(packet).toMatchObject({ topic: statusTopic, retain: true });
    expect(s.store.statuses).toMatchObject([{ terminalId: who.terminalId, status: { state: 'offline' } }]);
  });

  it.each([
    ['an online status', statusTopic, status('online'), 'qrgate_messages_malformed_total'],
    ['a non-status topic', terminalTopic(who.checkpointCode, who.terminalId, 'events'), '{}', 'qrgate_mqtt_publish_refused_total'],
    ['a foreign topic', 'some/topic', 'x', 'qrgate_mqtt_publish_refused_total'],
  ])('drops %s without an error (an error would make aedes retry the will forever)', async (_what, topic, payload, counter) => {
    const s = await setup();
    const packet = publish(topic, payload);
    expect(await s.authorize(null, packet)).toBeNull();
    expect(packet).toMatchObject({ topic: droppedTopic, retain: false, payload: Buffer.alloc(0) });
    expect(s.registry.value(counter)).toBe(1);
    expect(s.store.statuses).toEqual([]);
  });
});

describe('authorizePublish: a refused retained publish', () => {
  it('is rewritten so it can neither be delivered nor replace the retained message of its topic', async () => {
    const s = await setup();
    const client = { id: 'gate-a-2' } as Client;
    s.sessions.admit(client, { kind: 'terminal', terminalId: 'gate-a-2', checkpointCode: who.checkpointCode, listScopes: ['default'] });
    const packet = publish(statusTopic, status('offline'), true);
    expect(await s.authorize(client, packet)).toBeNull();
    expect(packet).toMatchObject({ topic: droppedTopic, retain: false, payload: Buffer.alloc(0) });
  });

  it('refuses a client that never authenticated', async () => {
    const s = await setup();
    expect(await s.authorize({ id: 'ghost' } as Client, publish(statusTopic, status('online')))).toBeInstanceOf(Error);
  });
});
