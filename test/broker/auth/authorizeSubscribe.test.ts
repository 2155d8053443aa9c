import type { Client, Subscription } from 'aedes';
import { describe, expect, it } from 'vitest';
import { createAuthorizeSubscribe } from '../../../broker/auth/authorizeSubscribe.js';
import { Sessions } from '../../../broker/auth/sessions.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { commandFilter, listManifestTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';

/** The hook without a socket: what it hands aedes back for a filter in and out of the ACL. */
function setup() {
  const registry = new MemoryMetrics();
  const log = captureLogger();
  const sessions = new Sessions();
  const hook = createAuthorizeSubscribe({ sessions, metrics: createBrokerMetrics(registry), logger: log.logger });
  const client = { id: 'gate-a-1' } as Client;
  sessions.admit(client, { kind: 'terminal', terminalId: 'gate-a-1', checkpointCode: '10000000000008', listScopes: ['site-a'] });
  const subscribe = (who: Client, topic: string, qos: 0 | 1 | 2) =>
    new Promise<{ error: Error | null; granted: Subscription | null | undefined }>((resolve) =>
      hook(who, { topic, qos } as Subscription, (error, granted) => resolve({ error, granted })),
    );
  return { registry, log, client, subscribe };
}

describe('authorizeSubscribe', () => {
  it('grants a filter inside the ACL, at QoS 1 at most', async () => {
    const s = setup();
    const own = commandFilter('10000000000008', 'gate-a-1');
    expect(await s.subscribe(s.client, own, 2)).toEqual({ error: null, granted: { topic: own, qos: 1 } });
    expect(await s.subscribe(s.client, listManifestTopic('site-a'), 0)).toEqual({ error: null, granted: { topic: listManifestTopic('site-a'), qos: 0 } });
    expect(s.registry.value('qrgate_mqtt_subscribe_refused_total')).toBe(0);
  });

  it('answers a filter outside the ACL with a failure code, not a closed connection, and counts and logs it', async () => {
    const s = setup();
    expect(await s.subscribe(s.client, 'qrgate/v1/#', 1)).toEqual({ error: null, granted: null });
    expect(await s.subscribe(s.client, listManifestTopic('site-b'), 1)).toEqual({ error: null, granted: null });
    expect(s.registry.value('qrgate_mqtt_subscribe_refused_total')).toBe(2);
    expect(s.log.messages('mqtt.subscribe-refused')[0]).toMatchObject({ clientId: 'gate-a-1', topic: 'qrgate/v1/#' });
  });

  it('refuses a client that never authenticated', async () => {
    const s = setup();
    const stranger = { id: 'stranger' } as Client;
    expect(await s.subscribe(stranger, commandFilter('10000000000008', 'gate-a-1'), 1)).toEqual({ error: null, granted: null });
    expect(s.registry.value('qrgate_mqtt_subscribe_refused_total')).toBe(1);
  });
});
