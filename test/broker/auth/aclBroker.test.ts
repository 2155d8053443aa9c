import { describe, it, expect } from 'vitest';
import { commandTopic, listManifestTopic } from '../../../protocol/topics.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { connectPacket, rawConnect, subscribePacket } from '../mqtt/rawMqtt.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/**
 * The ACL over real sockets, beyond one filter or one publish at a time (those are the
 * table of aclMatrix.test.ts): several filters in one SUBSCRIBE, a terminal whose scopes
 * were never recorded, and a forged command next to the central's own.
 */

describe('ACL over MQTT: terminal A next to terminal B', () => {
  const startBroker = useBroker();

  async function world() {
    const h = await startBroker();
    const a = await h.addTerminal();
    const b = await h.addTerminal(a.checkpointCode);
    return { h, a, b };
  }

  it('one SUBSCRIBE with an allowed and a refused filter gets one return code each', async () => {
    const w = await world();
    // Raw bytes: mqtt.js may split a SUBSCRIBE, this must be one packet with three filters.
    const raw = await rawConnect(w.h.port);
    raw.socket.write(connectPacket(w.a.terminalId, true, { username: w.a.terminalId, password: w.a.secret }));
    await expect.poll(() => [...raw.received()], pollDeadline).toEqual([0x20, 0x02, 0x00, 0x00]);
    const own = `qrgate/v1/cp/${w.a.checkpointCode}/t/${w.a.terminalId}/cmd/#`;
    raw.socket.write(subscribePacket(7, [own, '#', 'qrgate/v1/lists/default/#']));
    await expect.poll(() => [...raw.received().subarray(4)], pollDeadline).toEqual([0x90, 0x05, 0x00, 0x07, 0x01, 0x80, 0x01]);
    raw.socket.destroy();
  });

  it('a terminal added before scopes were recorded keeps any scope, and the central names it once', async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    h.store.forgetListScopes(t.terminalId); // as a row from before SQLite schema 3
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
    await expect.poll(() => received, pollDeadline).toEqual([commandTopic(w.b.checkpointCode, w.b.terminalId, 'ping')]);
  });
});
