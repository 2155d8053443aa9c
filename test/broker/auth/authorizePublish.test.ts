import type { Client, PublishPacket } from 'aedes';
import { describe, it, expect, vi } from 'vitest';
import { createAuthorizePublish, type AuthorizePublishDeps } from '../../../broker/auth/authorizePublish.js';
import type { CommandAcks } from '../../../broker/commands/commandAcks.js';
import type { PendingScans } from '../../../broker/guard/pendingScans.js';
import { Sessions } from '../../../broker/auth/sessions.js';
import { Ingestion } from '../../../broker/ingestion/ingestion.js';
import { AckOrder } from '../../../broker/mqtt/ackOrder.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { droppedTopic } from '../../../broker/mqtt/dropPublish.js';
import type { EnrollmentQr } from '../../../protocol/enrollment.js';
import { enrollRequestTopic, terminalTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';

/**
 * The hook without a socket, for what a socket cannot easily produce: aedes publishing a
 * will it restored from persistence with `client === null` (a terminal whose broker node
 * died), and the exact rewrite of a dropped packet.
 */
const testStore = useTestStore();

async function setup(extra: Partial<Pick<AuthorizePublishDeps, 'enroll' | 'holders' | 'pending' | 'commandAcks'>> = {}) {
  const store = await testStore();
  const registry = new MemoryMetrics();
  const log = captureLogger();
  const metrics = createBrokerMetrics(registry);
  const sessions = new Sessions();
  const ingestion = new Ingestion({ store, metrics, logger: log.logger, commit: { maxDelayMs: 1, maxEvents: 100 } });
  const hook = createAuthorizePublish({ sessions, ingestion, ackOrder: new AckOrder<Client>(), metrics, logger: log.logger, ...extra });
  const authorize = (client: Client | null, packet: PublishPacket) =>
    new Promise<Error | null>((resolve) => hook(client, packet, (error) => resolve(error ?? null)));
  return { store, registry, sessions, authorize, log };
}

function publish(topic: string, payload: string, retain = true): PublishPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false };
}

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
const statusTopic = terminalTopic(who.checkpointCode, who.terminalId, 'status');

/** `who`'s connection, logged in. */
function admitTerminal(s: Awaited<ReturnType<typeof setup>>): Client {
  const client = { id: who.terminalId } as Client;
  s.sessions.admit(client, { kind: 'terminal', ...who, listScopes: ['default'] });
  return client;
}

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

describe('authorizePublish: routing and what the log says (edges found by mutation testing)', () => {

  it('stores events, records status and telemetry, and lets a lab client route anything else', async () => {
    const s = await setup();
    const client = admitTerminal(s);
    const events = publish(terminalTopic(who.checkpointCode, who.terminalId, 'events'), batch(scanEvents(who, 2)), false);
    expect(await s.authorize(client, events)).toBeNull();
    expect(events.topic).toBe(droppedTopic);
    expect(s.store.eventCount()).toBe(2);
    const statusPacket = publish(statusTopic, status('online'));
    expect(await s.authorize(client, statusPacket)).toBeNull();
    expect(statusPacket.topic).toBe(statusTopic);
    const telemetryTopic = terminalTopic(who.checkpointCode, who.terminalId, 'telemetry');
    const telemetryPacket = publish(telemetryTopic, telemetry(), false);
    expect(await s.authorize(client, telemetryPacket)).toBeNull();
    expect(telemetryPacket.topic).toBe(telemetryTopic);
    expect(s.store.statuses).toHaveLength(1);
    expect(s.store.telemetry).toHaveLength(1);

    const lab = { id: 'lab' } as Client;
    s.sessions.admit(lab, { kind: 'lab' });
    const other = publish('some/topic', 'x', false);
    expect(await s.authorize(lab, other)).toBeNull();
    expect(other.topic).toBe('some/topic');
  });

  it('warns once per client about refused publishes, then keeps it to debug', async () => {
    const s = await setup();
    const client = admitTerminal(s);
    for (let i = 0; i < 3; i++) await s.authorize(client, publish('qrgate/v1/elsewhere', 'x', false));
    const refused = s.log.messages('mqtt.publish-refused');
    expect(refused.map((l) => l.level)).toEqual([40, 20, 20]);
    expect(refused[0]).toMatchObject({ clientId: who.terminalId, topic: 'qrgate/v1/elsewhere', why: 'outside the client ACL' });
    expect(s.registry.value('qrgate_mqtt_publish_refused_total')).toBe(3);
  });

  it('withholds the acknowledgement of a batch the store failed, and says so', async () => {
    const s = await setup();
    const client = admitTerminal(s);
    s.store.failInsertsWith = new Error('disk I/O error');
    const error = await s.authorize(client, publish(terminalTopic(who.checkpointCode, who.terminalId, 'events'), batch(scanEvents(who, 1)), false));
    expect(error).toMatchObject({ message: 'disk I/O error' });
    expect(s.log.messages('mqtt.publish-not-acknowledged')).toMatchObject([{ clientId: who.terminalId }]);
  });

  it('hands a well-formed enrollment request to the desk, refuses a malformed one, and never routes either', async () => {
    const asked: string[] = [];
    const s = await setup({
      enroll: async (clientId) => {
        asked.push(clientId);
        throw new Error('desk down');
      },
    });
    const device = { id: 'qrgate-enroll-1' } as Client;
    s.sessions.admit(device, { kind: 'enroll', clientId: 'qrgate-enroll-1', qr: {} as EnrollmentQr });
    const topic = enrollRequestTopic('qrgate-enroll-1');
    const good = publish(topic, JSON.stringify({ v: 1 }), false);
    expect(await s.authorize(device, good)).toBeNull();
    expect(good.topic).toBe(droppedTopic);
    expect(asked).toEqual(['qrgate-enroll-1']);
    await vi.waitFor(() => expect(s.log.messages('enroll.answer-failed')).toMatchObject([{ clientId: 'qrgate-enroll-1' }]));
    for (const payload of ['not json', JSON.stringify({ v: 2 })]) {
      expect(await s.authorize(device, publish(topic, payload, false))).toBeNull();
    }
    expect(asked).toHaveLength(1);
    expect(s.log.messages('mqtt.publish-refused')[0]).toMatchObject({ why: 'malformed enrollment request' });
  });

  it('refuses an enrollment request when no desk is attached', async () => {
    const s = await setup();
    const device = { id: 'qrgate-enroll-1' } as Client;
    s.sessions.admit(device, { kind: 'enroll', clientId: 'qrgate-enroll-1', qr: {} as EnrollmentQr });
    expect(await s.authorize(device, publish(enrollRequestTopic('qrgate-enroll-1'), JSON.stringify({ v: 1 }), false))).toBeNull();
    expect(s.log.messages('mqtt.publish-refused')[0]).toMatchObject({ why: 'enrollment not available' });
  });
});

describe('authorizePublish: pending scans, command acks and a cluster\'s outdated news', () => {

  it('routes a pending scan the guard screen kept, drops one it refused, and routes it with no screen attached', async () => {
    const kept: boolean[] = [true, false];
    const s = await setup({ pending: { accept: () => kept.shift()! } as unknown as PendingScans });
    const client = admitTerminal(s);
    const topic = terminalTopic(who.checkpointCode, who.terminalId, 'pending');
    const good = publish(topic, '{}', false);
    expect(await s.authorize(client, good)).toBeNull();
    expect(good.topic).toBe(topic);
    const bad = publish(topic, '{}', false);
    expect(await s.authorize(client, bad)).toBeNull();
    expect(bad.topic).toBe(droppedTopic);

    const bare = await setup();
    const plain = publish(topic, '{}', false);
    expect(await bare.authorize(admitTerminal(bare), plain)).toBeNull();
    expect(plain.topic).toBe(topic);
  });

  it('lets the command queue decide a command ack, and routes it with no queue attached', async () => {
    const asked: string[] = [];
    const s = await setup({
      commandAcks: {
        accept: (identity: { terminalId: string }) => {
          asked.push(identity.terminalId);
          return Promise.resolve('drop');
        },
      } as unknown as CommandAcks,
    });
    const topic = terminalTopic(who.checkpointCode, who.terminalId, 'cmd-acks');
    const ack = publish(topic, '{}', false);
    expect(await s.authorize(admitTerminal(s), ack)).toBeNull();
    expect([asked, ack.topic]).toEqual([[who.terminalId], droppedTopic]);

    const bare = await setup();
    const plain = publish(topic, '{}', false);
    expect(await bare.authorize(admitTerminal(bare), plain)).toBeNull();
    expect(plain.topic).toBe(topic);
  });

  it('drops an offline status from a node that no longer holds the terminal, and asks about nothing else', async () => {
    const asked: [string, string | undefined][] = [];
    let outdated = true;
    const holders = {
      nodeId: 'node-a',
      outdated: (terminalId: string, publisherNode: string | undefined) => {
        asked.push([terminalId, publisherNode]);
        return Promise.resolve(outdated);
      },
    };
    const s = await setup({ holders });

    // A will restored by another node's persistence carries the node that stored it.
    const will = { ...publish(statusTopic, status('offline')), brokerId: 'node-b' } as PublishPacket;
    expect(await s.authorize(null, will)).toBeNull();
    expect(will.topic).toBe(droppedTopic);
    expect(s.log.messages('cluster.status-outdated')).toMatchObject([{ terminalId: who.terminalId, publisherNode: 'node-b' }]);
    expect(s.store.statuses).toEqual([]);

    const client = admitTerminal(s);
    const online = publish(statusTopic, status('online'));
    expect(await s.authorize(client, online)).toBeNull();
    expect(asked).toEqual([[who.terminalId, 'node-b']]);

    outdated = false;
    const own = publish(statusTopic, status('offline'));
    expect(await s.authorize(client, own)).toBeNull();
    expect(own.topic).toBe(statusTopic);
    expect(asked.at(-1)).toEqual([who.terminalId, 'node-a']);
    const unnamed = { ...publish(statusTopic, status('offline')), brokerId: 7 } as PublishPacket;
    expect(await s.authorize(null, unnamed)).toBeNull();
    expect(asked.at(-1)).toEqual([who.terminalId, undefined]);
    expect(s.store.statuses.map((row) => row.status.state)).toEqual(['online', 'offline', 'offline']);
  });

  it('says nothing about acknowledgements that went out, and names why a stranger\'s publish failed', async () => {
    const s = await setup();
    const client = admitTerminal(s);
    expect(await s.authorize(client, publish(statusTopic, status('online')))).toBeNull();
    expect(s.log.messages('mqtt.publish-not-acknowledged')).toEqual([]);
    expect(await s.authorize({ id: 'ghost' } as Client, publish(statusTopic, status('online')))).toMatchObject({
      message: 'publish from a client that has not authenticated',
    });
  });

  it('refuses a will outside a status topic, and says so', async () => {
    const s = await setup();
    await s.authorize(null, publish('some/topic', 'x'));
    expect(s.log.messages('mqtt.publish-refused')).toMatchObject([{ clientId: null, why: 'will without a client outside a status topic' }]);
  });
});
