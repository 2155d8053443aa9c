import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Central } from '../../../broker/central.js';
import { loadCentralConfig } from '../../../broker/config.js';
import { listManifestTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { createCentralSite } from '../../helpers/centralSite.js';
import { useTempDir } from '../../helpers/tempDir.js';

/**
 * DESIGN.md "MQTT": a terminal subscribes only to its own lists' topics. End to end over a
 * real socket: the scopes given to `qrgate terminals add --lists` (a real CLI process) are
 * what the running central's ACL answers with, SUBACK 0x80 for any other scope
 * [MQTT-3.8.4-5], [MQTT-3.9.3-2], the connection kept.
 */
describe('list topics for terminals provisioned with terminals add --lists', () => {
  const tempDir = useTempDir('qrgate-list-scopes-');
  const running: Array<{ central: Central; clients: MqttClient[] }> = [];
  afterEach(async () => {
    for (const { central, clients } of running.splice(0)) {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      await central.stop();
    }
  });

  it("grants a terminal its own scope's manifest and refuses another scope's with SUBACK 0x80", async () => {
    // MQTT port 0: the terminals' configs are never used to connect here, only their credentials.
    const site = await createCentralSite(tempDir(), 0, { people: 1 });
    const siteA = await site.addTerminal('gate-1', { lists: ['site-a'] });
    const byDefault = await site.addTerminal('gate-2'); // no --lists: `default` only
    const central = new Central(loadCentralConfig(site.centralConfig), { logger: captureLogger('info').logger });
    const clients: MqttClient[] = [];
    running.push({ central, clients });
    const { mqttPort } = await central.start();

    const connect = async (terminal: { terminalId: string; password: string }): Promise<MqttClient> => {
      const options = { clientId: terminal.terminalId, username: terminal.terminalId, password: terminal.password };
      const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { ...options, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 }, false);
      clients.push(client);
      return client;
    };
    const granted = async (client: MqttClient, topic: string) => (await client.subscribeAsync(topic, { qos: 1 }))[0]?.qos;
    const refused = { packet: { granted: [0x80] } };

    const a = await connect(siteA);
    expect(await granted(a, listManifestTopic('site-a'))).toBe(1);
    await expect(a.subscribeAsync(listManifestTopic('default'), { qos: 1 })).rejects.toMatchObject(refused);
    await expect(a.subscribeAsync(listManifestTopic('site-b'), { qos: 1 })).rejects.toMatchObject(refused);
    expect(a.connected).toBe(true);

    const d = await connect(byDefault);
    expect(await granted(d, listManifestTopic('default'))).toBe(1);
    await expect(d.subscribeAsync(listManifestTopic('site-a'), { qos: 1 })).rejects.toMatchObject(refused);
    expect(d.connected).toBe(true);
  });
});
