import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublishPacket } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { ListDistributor } from '../../../broker/lists/distributor.js';
import { publishList } from '../../../broker/lists/publish.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { openCentralDb, type CentralDb } from '../../../broker/store/sqliteSchema.js';
import { verifyManifest } from '../../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMembers, setStatus } from './registryRows.js';

const scope = 'site-a';

/** aedes's retained store as MQTT 3.1.1 defines it: an empty retained payload deletes [MQTT-3.3.1-10]. */
class RecordingBroker {
  readonly retained = new Map<string, Buffer>();
  readonly topics: string[] = [];

  publish(packet: PublishPacket, callback: (error?: Error) => void): void {
    const payload = Buffer.from(packet.payload);
    this.topics.push(packet.topic);
    expect(packet).toMatchObject({ retain: true, qos: 1 });
    if (payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, payload);
    setImmediate(() => callback());
  }

  taken(): string[] {
    return this.topics.splice(0);
  }
}

describe('ListDistributor: published lists onto retained topics', () => {
  const tempDir = useTempDir('qrgate-lists-distributor-');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const open: CentralDb[] = [];
  const running: ListDistributor[] = [];
  afterEach(async () => {
    for (const d of running.splice(0)) await d.stop();
    for (const db of open.splice(0)) db.close();
  });

  function setup() {
    const dataDir = tempDir();
    const connection = openCentralDb(join(dataDir, 'central.db'), { synchronous: 'NORMAL' });
    open.push(connection);
    const db = new SqliteRegistryDb(connection);
    const broker = new RecordingBroker();
    const log = captureLogger('info');
    // Polled by hand: the timer would only add waiting.
    const distributor = new ListDistributor({ dataDir, trustedKeys: [publicKey], broker, logger: log.logger, pollMs: 3_600_000, retryMs: 0 });
    running.push(distributor);
    const publish = () => publishList(db, { dataDir, scope, privateKey, chunkBytes: 1024 });
    const manifest = () => verifyManifest(broker.retained.get(listManifestTopic(scope))!, { trustedKeys: [publicKey], scope, installedVersion: null }).manifest;
    const file = (name: string) => readFileSync(join(dataDir, 'lists', scope, `${name}.qgl`));
    /** Every retained topic the current manifest needs, and nothing else. */
    const expectedTopics = () => {
      const m = manifest();
      return [listManifestTopic(scope), ...[m.snapshot, ...m.deltas].flatMap((f) => f.chunks.map((_, i) => listChunkTopic(scope, f.name, i)))].sort();
    };
    const reassemble = (name: string) => {
      const f = [manifest().snapshot, ...manifest().deltas].find((d) => d.name === name)!;
      return Buffer.concat(f.chunks.map((_, i) => broker.retained.get(listChunkTopic(scope, name, i))!));
    };
    return { dataDir, db, broker, log, distributor, publish, manifest, file, expectedTopics, reassemble };
  }

  it('retains every chunk, then the manifest; the chunks reassemble into the file', async () => {
    const s = setup();
    await addMembers(s.db, scope, 200);
    await s.publish();
    await s.distributor.start();

    const order = s.broker.taken();
    expect(order.at(-1)).toBe(listManifestTopic(scope));
    expect(order.slice(0, -1).every((t) => t.startsWith(`qrgate/v1/lists/${scope}/files/s1/`))).toBe(true);
    expect([...s.broker.retained.keys()].sort()).toEqual(s.expectedTopics());
    expect(s.reassemble('s1').equals(s.file('s1'))).toBe(true);
    expect(s.log.messages('lists.distributed')).toMatchObject([{ scope, version: 1, files: 1, chunks: s.manifest().snapshot.chunks.length, bytes: s.file('s1').length }]);

    await s.distributor.poll();
    expect(s.broker.taken()).toEqual([]); // nothing changed, nothing sent
  });

  it('a new version: sends only the new files, then the manifest, then clears the files it dropped', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 200);
    await s.publish();
    await s.distributor.start();
    s.broker.taken();
    const v1Chunks = s.manifest().snapshot.chunks.length;

    await setStatus(s.db, people[0]!, 'deny');
    await s.publish();
    await s.distributor.poll();
    await setStatus(s.db, people[1]!, 'deny');
    await s.publish();
    s.broker.taken();
    await s.distributor.poll();

    const sent = s.broker.taken();
    const manifestAt = sent.indexOf(listManifestTopic(scope));
    // d1-2 went out with v2 and is not sent again; s3 and d2-3 are new.
    expect(new Set(sent.slice(0, manifestAt).map((t) => t.split('/')[5]))).toEqual(new Set(['s3', 'd2-3']));
    expect(sent.slice(manifestAt + 1).every((t) => t.includes('/files/s2/'))).toBe(true);
    expect(s.manifest().deltas.map((d) => d.name)).toEqual(['d1-2', 'd2-3']);
    expect([...s.broker.retained.keys()].sort()).toEqual(s.expectedTopics());
    for (const name of ['s3', 'd1-2', 'd2-3']) expect(s.reassemble(name).equals(s.file(name))).toBe(true);
    expect(v1Chunks).toBeGreaterThan(1);
    expect(s.log.messages('lists.distributed').at(-1)).toMatchObject({ version: 3, files: 2, cleared: 1 });
  });

  it('logs a manifest it cannot read or verify and carries on with the other scopes', async () => {
    const s = setup();
    await addMembers(s.db, scope, 20);
    await s.publish();
    mkdirSync(join(s.dataDir, 'lists', 'broken'));
    writeFileSync(join(s.dataDir, 'lists', 'broken', 'manifest.json'), '{"not": "a manifest"');
    mkdirSync(join(s.dataDir, 'lists', 'other'));
    writeFileSync(join(s.dataDir, 'lists', 'other', 'manifest.json'), readFileSync(join(s.dataDir, 'lists', scope, 'manifest.json')));

    await s.distributor.start();

    expect(s.broker.retained.has(listManifestTopic(scope))).toBe(true);
    expect(s.log.messages('lists.distribute-failed').map((l) => [l.scope, (l.err as { code: string }).code]).sort()).toEqual([
      ['broken', 'malformed'],
      ['other', 'wrong-scope'],
    ]);
    expect([...s.broker.retained.keys()].some((t) => t.includes('/broken/') || t.includes('/other/'))).toBe(false);
  });

  it('does not put out the manifest when a file on disk does not match it', async () => {
    const s = setup();
    await addMembers(s.db, scope, 100);
    await s.publish();
    const path = join(s.dataDir, 'lists', scope, 's1.qgl');
    const damaged = readFileSync(path);
    damaged[damaged.length - 1]! ^= 0xff;
    writeFileSync(path, damaged);

    await s.distributor.start();

    expect(s.broker.retained.has(listManifestTopic(scope))).toBe(false);
    expect(s.log.messages('lists.distribute-failed')).toMatchObject([{ scope, err: { code: 'list-file-mismatch' } }]);
  });
});
