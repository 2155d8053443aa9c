import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublishPacket } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { ListDistributor } from '../../../broker/lists/distributor.js';
import { publishList } from '../../../broker/lists/publish.js';
import { SharedLists } from '../../../broker/lists/sharedLists.js';
import type { RegistryHandle } from '../../../broker/store/sql/registryDb.js';
import { verifyManifest } from '../../../protocol/lists/index.js';
import { listManifestTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { usePostgresDatabase } from '../../helpers/postgres.js';
import { openPgRegistry } from '../../helpers/registryEngines.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMembers, setStatus } from '../lists/registryRows.js';

/**
 * Two cluster nodes, each with its own data folder, on one PostgreSQL: a list published on
 * either is served by both from the same signed bytes, and no node announces a manifest
 * whose files it does not hold.
 */
const scope = 'site-a';

class RecordingBroker {
  readonly retained = new Map<string, Buffer>();
  publish(packet: PublishPacket, callback: (error?: Error) => void): void {
    const payload = Buffer.from(packet.payload);
    if (payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, payload);
    setImmediate(() => callback());
  }
}

describe('list files shared by the nodes of a cluster', () => {
  const database = usePostgresDatabase();
  const tempDir = useTempDir('qrgate-shared-lists-');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const handles: RegistryHandle[] = [];
  const distributors: ListDistributor[] = [];
  afterEach(async () => {
    for (const d of distributors.splice(0)) await d.stop();
    for (const h of handles.splice(0)) await h.close();
  });

  async function cluster() {
    const handle = await openPgRegistry(database);
    handles.push(handle);
    const db = handle.db;
    const node = (name: string, dataDir = join(tempDir(), name)) => {
      const log = captureLogger('info');
      const shared = new SharedLists({ db, dataDir, trustedKeys: [publicKey], logger: log.logger });
      const broker = new RecordingBroker();
      const distributor = new ListDistributor({ dataDir, trustedKeys: [publicKey], broker, logger: log.logger, pollMs: 3_600_000, retryMs: 0, beforePass: () => shared.materialise() });
      distributors.push(distributor);
      const dir = join(dataDir, 'lists', scope);
      return {
        dataDir,
        log,
        broker,
        distributor,
        publish: () => publishList(db, { dataDir, scope, privateKey }),
        file: (name: string) => readFileSync(join(dir, name)),
        has: (name: string) => existsSync(join(dir, name)),
        announced: () => {
          const manifest = broker.retained.get(listManifestTopic(scope));
          return manifest && verifyManifest(manifest, { trustedKeys: [publicKey], scope, installedVersion: null }).manifest.version;
        },
      };
    };
    return { db, a: node('a'), b: node('b'), node };
  }

  it('serves a list published on node A from node B, byte for byte, and a publish on B builds its delta from it', async () => {
    const { db, a, b } = await cluster();
    const people = await addMembers(db, scope, 30);
    await a.publish();
    await a.distributor.start();
    await b.distributor.start();
    expect(b.file('s1.qgl')).toEqual(a.file('s1.qgl'));
    expect(b.file('manifest.json')).toEqual(a.file('manifest.json'));
    expect(b.broker.retained).toEqual(a.broker.retained);
    expect(b.log.messages('lists.materialised')).toHaveLength(1);

    await setStatus(db, people[0]!, 'deny');
    const second = await b.publish();
    expect(second).toMatchObject({ version: 2, chain: ['d1-2'] });
    expect(second.previousSnapshotUnreadable).toBeUndefined();
    await a.distributor.poll();
    await b.distributor.poll();
    for (const name of ['s2.qgl', 'd1-2.qgl', 'manifest.json']) expect(a.file(name)).toEqual(b.file(name));
    expect(a.announced()).toBe(2);
    expect(b.announced()).toBe(2);
    expect(a.broker.retained).toEqual(b.broker.retained);
  });

  it('brings a node with an older folder forward instead of letting it announce the old version', async () => {
    const { db, a, b, node } = await cluster();
    const people = await addMembers(db, scope, 10);
    await a.publish();
    await b.distributor.start(); // B has version 1
    await b.distributor.stop();
    await setStatus(db, people[1]!, 'check');
    await a.publish();
    // B restarted with version 1 in its folder: it takes version 2 before it announces anything.
    const restarted = node('b', b.dataDir);
    await restarted.distributor.start();
    expect(restarted.announced()).toBe(2);
    expect(restarted.file('manifest.json')).toEqual(a.file('manifest.json'));
  });

  it('announces nothing new when the shared file is damaged: the manifest stays on the version it can serve', async () => {
    const { db, a, b } = await cluster();
    const people = await addMembers(db, scope, 10);
    await a.publish();
    await b.distributor.start();
    expect(b.announced()).toBe(1);
    await setStatus(db, people[2]!, 'deny');
    await a.publish();
    await db.run("UPDATE list_files SET bytes = ? WHERE scope = ? AND name = 's2'", [Buffer.from('not a list'), scope]);
    await b.distributor.poll();
    expect(b.announced()).toBe(1);
    expect(b.has('s2.qgl')).toBe(false);
    expect(b.log.messages('lists.materialise-failed')).toHaveLength(1);
  });
});
