import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSecret, hashSecret } from '../../../broker/auth/secrets.js';
import { Central } from '../../../broker/central.js';
import { loadCentralConfig, withCentralStore } from '../../../broker/config.js';
import { publishList } from '../../../broker/lists/publish.js';
import { openRegistry } from '../../../broker/registry/registryDb.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { loadAuthorityPrivateKey, loadPublicKey } from '../../../protocol/keys.js';
import { defaultChunkBytes, verifyManifest, type ListManifest } from '../../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic } from '../../../protocol/topics.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { writeCentralSite } from '../mqtt/centralFixture.js';
import { addMembers, setStatus } from './registryRows.js';

const scope = 'site-a';

/** A terminal's view of the list topics: every message received, by topic, latest last. */
class ListWatcher {
  readonly messages = new Map<string, Buffer[]>();

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const seen = this.messages.get(topic) ?? [];
      seen.push(Buffer.from(payload));
      this.messages.set(topic, seen);
    });
  }

  latest(topic: string): Buffer | undefined {
    return this.messages.get(topic)?.at(-1);
  }

  /** Subscribes to every chunk of `name` one topic at a time, as the terminal's list sync does, and joins them. */
  async fetch(manifest: ListManifest, name: string): Promise<Buffer> {
    const file = [manifest.snapshot, ...manifest.deltas].find((f) => f.name === name)!;
    const topics = file.chunks.map((_, i) => listChunkTopic(scope, name, i));
    await this.client.subscribeAsync(topics, { qos: 1 });
    return waitFor(() => (topics.every((t) => this.latest(t)?.length) ? Buffer.concat(topics.map((t) => this.latest(t)!)) : null), 10_000, `chunks of ${name}`);
  }
}

describe('the central distributes published lists over MQTT', () => {
  const tempDir = useTempDir('qrgate-central-lists-');
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function site() {
    const dir = tempDir();
    const config = loadCentralConfig(writeCentralSite(dir));
    const terminal = await withCentralStore(config, { logger: silentLogger() }, async (store) => {
      const code = generateCheckpointCode();
      await store.createCheckpoint({ code, name: 'Cổng A', direction: 'both', confirm: 'auto' });
      const secret = generateSecret();
      await store.addTerminal({ terminalId: 'gate-a-1', checkpointCode: code, secretHash: await hashSecret(secret), listScopes: [scope] });
      return { terminalId: 'gate-a-1', secret };
    });
    const registry = await openRegistry(config);
    const db = registry.db;
    cleanup.push(() => registry.close());
    const privateKey = loadAuthorityPrivateKey(config.keys.authorityKey);
    const publicKey = loadPublicKey(join(dir, 'keys', 'authority.pub'));
    const publish = (chunkBytes = 4096) => publishList(db, { dataDir: config.dataDir, scope, privateKey, chunkBytes });
    const file = (name: string) => readFileSync(join(config.dataDir, 'lists', scope, `${name}.qgl`));
    const log = captureLogger('info');
    const central = new Central(config, { logger: log.logger });
    const start = async () => {
      const ports = await central.start();
      cleanup.push(() => central.stop());
      const client = await connectAsync(
        `mqtt://127.0.0.1:${ports.mqttPort}`,
        { clientId: terminal.terminalId, username: terminal.terminalId, password: terminal.secret, protocolVersion: 4, reconnectPeriod: 0 },
        false,
      );
      cleanup.push(() => client.endAsync());
      return new ListWatcher(client);
    };
    const verify = (payload: Buffer) => verifyManifest(payload, { trustedKeys: [publicKey], scope, installedVersion: null }).manifest;
    return { db, publish, file, start, verify, log };
  }

  it('a terminal reads the retained manifest, fetches the snapshot chunk by chunk and gets the file byte for byte', async () => {
    const s = await site();
    // The default 64 KiB chunks: nothing between the broker and the terminal may refuse a packet that size.
    await addMembers(s.db, scope, 5000);
    await s.publish(defaultChunkBytes);
    const terminal = await s.start();
    expect(s.log.messages('lists.distributed')).toMatchObject([{ scope, version: 1, files: 1 }]);

    await terminal.client.subscribeAsync(listManifestTopic(scope), { qos: 1 });
    const manifest = s.verify(await waitFor(() => terminal.latest(listManifestTopic(scope)), 10_000, 'the retained manifest'));
    expect(manifest).toMatchObject({ version: 1, count: 5000, chunkBytes: 65536, snapshot: { name: 's1' } });
    expect(manifest.snapshot.chunks.length).toBeGreaterThan(1);
    expect((await terminal.fetch(manifest, 's1')).equals(s.file('s1'))).toBe(true);
  });

  it('a version published while the central runs reaches a subscribed terminal without a restart, and the old chunks are cleared', async () => {
    const s = await site();
    const people = await addMembers(s.db, scope, 300);
    await s.publish();
    const terminal = await s.start();
    await terminal.client.subscribeAsync(listManifestTopic(scope), { qos: 1 });
    const v1 = s.verify(await waitFor(() => terminal.latest(listManifestTopic(scope)), 10_000, 'manifest v1'));
    await terminal.fetch(v1, 's1');

    await setStatus(s.db, people[7]!, 'deny');
    const publishedAt = Date.now();
    await s.publish(); // what `qrgate lists publish` does from another process
    const v2 = s.verify(
      await waitFor(() => {
        const latest = terminal.latest(listManifestTopic(scope));
        return latest && s.verify(latest).version === 2 ? latest : null;
      }, 30_000, 'manifest v2'),
    );
    console.info(`version 2 reached the terminal ${Date.now() - publishedAt} ms after it was published`);
    expect(v2.deltas.map((d) => d.name)).toEqual(['d1-2']);
    expect((await terminal.fetch(v2, 'd1-2')).equals(s.file('d1-2'))).toBe(true);
    expect((await terminal.fetch(v2, 's2')).equals(s.file('s2'))).toBe(true);

    // s1 left the manifest: each of its retained chunks is deleted by an empty retained
    // payload, which subscribers receive as such.
    const s1Topics = v1.snapshot.chunks.map((_, i) => listChunkTopic(scope, 's1', i));
    await waitFor(() => s1Topics.every((t) => terminal.latest(t)?.length === 0), 5_000, 's1 chunks cleared');
    expect(s.log.messages('lists.distributed').at(-1)).toMatchObject({ version: 2, files: 2, cleared: 1 });
  });
});
