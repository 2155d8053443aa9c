import { describe, it, expect } from 'vitest';
import { hashSecret, generateSecret } from '../../../broker/auth/secrets.js';
import { closed, useBroker, type BrokerHarness } from '../mqtt/brokerHarness.js';
import { status } from '../mqtt/fixtures.js';
import { connectPacket, rawConnect } from '../mqtt/rawMqtt.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/** CONNACK return codes over a real socket (MQTT 3.1.1 §3.2.2.3). */
describe('CONNECT: who gets in', () => {
  const startBroker = useBroker();

  it('admits a terminal with its id as client id and username and its secret as password', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    expect(client.connected).toBe(true);
    await expect.poll(() => h.store.connections, pollDeadline).toContainEqual({ terminalId: t.terminalId, online: true });
  });

  it.each([
    ['a wrong password', 4, { password: 'not-the-secret' }],
    ['an unknown terminal', 4, { username: 'nobody', clientId: 'nobody' }],
    ['a username without a password', 4, { password: undefined }],
    ['no credentials at all', 5, { username: undefined, password: undefined }],
    ['a client id that is not the username', 2, { clientId: 'someone-else' }],
    ['a client id longer than 64 bytes', 2, { clientId: 'x'.repeat(65) }],
  ])('refuses %s with CONNACK %i', async (_what, code, extra) => {
    const h = await startBroker();
    const t = await h.addTerminal();
    expect(await h.connackCode(h.terminalOptions(t, extra))).toBe(code);
    expect(h.metric('qrgate_mqtt_auth_refused_total')).toBe(1);
  });

  /**
   * Topic injection through the id: a terminal's id is a level of its own topics, so one
   * holding `/`, `+`, `#` or NUL would widen its ACL prefix (`…/t/+/cmd/#`). Refused with
   * CONNACK 2 [MQTT-3.1.3-9] even when the store holds such a row (a hand-made one:
   * provisioning refuses these ids) and the secret is right.
   */
  it.each([
    ['a plus', 'gate+1'],
    ['a hash', '#'],
    ['a slash', 'gate/1'],
    ['a NUL', 'ga\0te'],
    ['only a plus', '+'],
  ])('refuses a client id and username with %s (%j) with CONNACK 2, even with a stored row and the right secret', async (_what, id) => {
    const h = await startBroker();
    const t = await h.addTerminal(undefined, id);
    expect(await h.connackCode(h.terminalOptions(t))).toBe(2);
    expect(h.log.messages('mqtt.auth-refused')).toEqual([expect.objectContaining({ reason: 'client-id-invalid', returnCode: 2 })]);
  });

  it('refuses a removed terminal with CONNACK 5, even with the right secret', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    await h.store.removeTerminal(t.terminalId);
    expect(await h.connackCode(h.terminalOptions(t))).toBe(5);
  });

  it('refuses a terminal of a retired checkpoint with CONNACK 5', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    await h.store.retireCheckpoint(t.checkpointCode);
    expect(await h.connackCode(h.terminalOptions(t))).toBe(5);
  });

  it('refuses a will outside the terminal\'s own status topic with CONNACK 5', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const other = await h.addTerminal(t.checkpointCode);
    const will = { topic: terminalTopic(other.checkpointCode, other.terminalId, 'status'), payload: Buffer.from(status('offline')), qos: 1 as const, retain: true };
    expect(await h.connackCode(h.terminalOptions(t, { will }))).toBe(5);
    const own = { ...will, topic: terminalTopic(t.checkpointCode, t.terminalId, 'status') };
    expect((await h.connectTerminal(t, { will: own })).connected).toBe(true);
  });

  it('answers CONNACK 3 when the store cannot be asked, and logs no secret', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    h.store.getTerminalCredentials = () => Promise.reject(new Error('database is locked'));
    expect(await h.connackCode(h.terminalOptions(t))).toBe(3);
    expect(h.log.messages('mqtt.auth-failed')).toHaveLength(1);
    expect(JSON.stringify(h.log.lines)).not.toContain(t.secret);
  });

  it('never logs the password of a refused client', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    await h.connackCode(h.terminalOptions(t, { password: 'wrong-but-secret-looking' }));
    const refused = h.log.messages('mqtt.auth-refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: 'bad-password', returnCode: 4, clientId: t.terminalId });
    expect(JSON.stringify(h.log.lines)).not.toContain('wrong-but-secret-looking');
    expect(JSON.stringify(h.log.lines)).not.toContain(t.secret);
  });

  it('lab mode admits anonymous clients with full access, still checks credentials that are given', async () => {
    const h = await startBroker({ lab: true });
    const anonymous = await h.connect({ clientId: 'mqtt-explorer' });
    const granted = await anonymous.subscribeAsync('#');
    expect(granted[0]?.qos).toBe(0);
    const t = await h.addTerminal();
    expect(await h.connackCode(h.terminalOptions(t, { password: 'wrong' }))).toBe(4);
  });

  it.each([false, true])('refuses an empty client id with CleanSession 0 with CONNACK 2 [MQTT-3.1.3-8] (lab: %s)', async (lab) => {
    // aedes 1.2 accepts it and invents an id (moscajs/aedes#1095); mqtt.js will not even send it.
    const h = await startBroker({ lab });
    const raw = await rawConnect(h.port);
    raw.socket.write(connectPacket('', false));
    await raw.closed;
    expect([...raw.received()]).toEqual([0x20, 0x02, 0x00, 0x02]);
  });

  it('lab mode admits an empty client id with CleanSession 1 [MQTT-3.1.3-6]', async () => {
    const h = await startBroker({ lab: true });
    const raw = await rawConnect(h.port);
    raw.socket.write(connectPacket('', true));
    await expect.poll(() => [...raw.received()], pollDeadline).toEqual([0x20, 0x02, 0x00, 0x00]);
    raw.socket.destroy();
  });

  /**
   * Logins are checked against the registry as the revocation watcher last read it
   * (broker/auth/registrySnapshot.ts), and against the store for whatever that snapshot
   * cannot admit. Resolves once a read that began after now has finished: the snapshot then
   * holds every change made before the call.
   */
  async function snapshotRefreshed(h: BrokerHarness): Promise<void> {
    let reads = 0;
    const real = h.store.listTerminalCredentials.bind(h.store);
    h.store.listTerminalCredentials = async () => {
      reads++;
      return real();
    };
    await expect.poll(() => reads, pollDeadline).toBeGreaterThanOrEqual(2);
    h.store.listTerminalCredentials = real;
  }

  it('admits a terminal added after the start at once, and one whose secret was rotated with its new secret at once', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    (await h.connectTerminal(t)).end(true);
    await snapshotRefreshed(h);
    const secret = generateSecret();
    await h.store.setTerminalSecret(t.terminalId, await hashSecret(secret));
    const client = await h.connectTerminal({ ...t, secret });
    expect(client.connected).toBe(true);
  });

  it('does not let a removed terminal stay: refused, or cut off by the next revocation pass, then refused with CONNACK 5', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    (await h.connectTerminal(t)).end(true);
    await snapshotRefreshed(h);
    await h.store.removeTerminal(t.terminalId);
    // The snapshot may still hold the terminal as it was: a login it admits lasts one pass at most.
    const admitted = await h.connectTerminal(t).catch(() => null);
    if (admitted) await closed(admitted, pollDeadline.timeout);
    expect(await h.connackCode(h.terminalOptions(t))).toBe(5);
    expect(await h.connackCode(h.terminalOptions({ ...t, secret: 'not-the-secret' }))).toBe(4);
  });
});
