import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListSync, type AppliedList, type ApplyRequest, type ListInstaller } from '../../../gateway/listSync/listSync.js';
import { sha256Hex, signManifest, verifySignedList } from '../../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic, listTopicPrefix } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { RetainedBroker } from '../../fakes/retainedBroker.js';
import { buildRelease, randomState, type ListState } from '../../helpers/listReleases.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';

const scope = 'site-a';
const authority = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

class InstallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Installs for real into a Map, with the checks the worker makes (hash, signature, version,
 * base, count), so the sync is judged by the list it ends up with.
 */
class MapInstaller implements ListInstaller {
  constructor(private readonly trustedKeys = [authority.publicKey]) {}
  readonly state = new Map<string, string>();
  version: number | null = null;
  readonly applied: string[] = [];
  failNextWith: string | null = null;

  async apply(request: ApplyRequest): Promise<AppliedList> {
    const bytes = readFileSync(request.file);
    if (sha256Hex(bytes) !== request.expected.sha256) throw new InstallError('hash-mismatch', 'file hash differs from the manifest');
    const list = verifySignedList(bytes, { trustedKeys: this.trustedKeys, scope, installedVersion: this.version });
    const { header } = list;
    if (header.kind === 'delta' && header.baseVersion !== this.version) throw new InstallError('base-missing', 'base missing');
    const next = header.kind === 'snapshot' ? new Map<string, string>() : new Map(this.state);
    for (const entry of list.entries()) {
      const ref = entry.ref.toString('hex');
      if (entry.status === 'remove') next.delete(ref);
      else next.set(ref, entry.status);
    }
    const forced = this.failNextWith;
    this.failNextWith = null;
    if (forced !== null) throw new InstallError(forced, `forced ${forced}`);
    if (next.size !== request.expected.resultCount) throw new InstallError('count-mismatch', 'count differs');
    this.state.clear();
    for (const [ref, status] of next) this.state.set(ref, status);
    this.version = header.version;
    this.applied.push(`${header.kind}:${header.version}`);
    return { scope, version: header.version, kind: header.kind, entries: next.size, changed: true, applyMs: 1 };
  }

  holds(expected: ListState): boolean {
    return this.state.size === expected.size && [...expected].every(([ref, status]) => this.state.get(ref) === status);
  }
}

/** Holds one apply until released, as a slow SD card would. */
class GatedInstaller extends MapInstaller {
  private gate: Promise<void> | null = null;
  waiting = false;

  holdNext(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return release;
  }

  override async apply(request: ApplyRequest): Promise<AppliedList> {
    const gate = this.gate;
    this.gate = null;
    if (gate) {
      this.waiting = true;
      await gate;
      this.waiting = false;
    }
    return super.apply(request);
  }
}

function evolve(state: ListState, changes: number): Map<string, 'allow' | 'deny' | 'check'> {
  const next = new Map(state);
  let n = 0;
  for (const ref of state.keys()) {
    if (n >= changes) break;
    if (n % 3 === 0) next.delete(ref);
    else next.set(ref, 'deny');
    n++;
  }
  for (const [ref, status] of randomState(changes)) next.set(ref, status);
  return next;
}

describe('ListSync', () => {
  const tempDir = useTempDir();

  function rig(options: { installer?: MapInstaller; downloadDir?: string; trusted?: typeof authority.publicKey[]; retryMs?: number; nowMs?: () => number } = {}) {
    const installer = options.installer ?? new MapInstaller();
    const log = captureLogger();
    const broker = new RetainedBroker();
    const downloadDir = options.downloadDir ?? join(tempDir(), 'downloads');
    const sync = new ListSync({
      scopes: [scope],
      trustedKeys: options.trusted ?? [authority.publicKey],
      installedVersion: () => installer.version,
      installer,
      downloadDir,
      logger: log.logger,
      window: 4,
      chunkTimeoutMs: 2000,
      retryMs: options.retryMs ?? 60_000,
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
    const connect = () => sync.attach(broker.connect((topic, payload) => sync.handle(topic, payload)));
    return { installer, log, broker, sync, downloadDir, connect };
  }

  it('fetches the snapshot chunk by chunk and installs exactly the published list', async () => {
    const { installer, broker, sync, connect, log } = rig();
    const v1 = randomState(300);
    const release = buildRelease(authority.privateKey, scope, [v1]);
    broker.publish(release.retained);
    connect();
    await waitFor(() => log.messages('lists.synced').length === 1, 10_000, 'lists.synced');
    expect(installer.version).toBe(1);
    expect(installer.holds(v1)).toBe(true);
    expect(release.manifest.snapshot.chunks.length).toBeGreaterThan(5); // it really went in chunks
    await sync.close();
  });

  it('takes the delta chain from the installed version, and the snapshot when its base is not offered', async () => {
    const states = [randomState(200)];
    for (let v = 2; v <= 4; v++) states.push(evolve(states.at(-1)!, 20));
    const { installer, broker, sync, connect } = rig();
    broker.publish(buildRelease(authority.privateKey, scope, states.slice(0, 2)).retained);
    connect();
    await waitFor(() => installer.version === 2, 10_000, 'version 2');
    expect(installer.applied).toEqual(['snapshot:2']);

    const v4 = buildRelease(authority.privateKey, scope, states);
    broker.publish(v4.retained);
    sync.resync();
    await waitFor(() => installer.version === 4, 10_000, 'version 4');
    expect(installer.applied).toEqual(['snapshot:2', 'delta:3', 'delta:4']);
    expect(installer.holds(states[3]!)).toBe(true);
    // No chunk of the v4 snapshot was fetched: the deltas were enough.
    expect(v4.manifest.snapshot.name).toBe('s4');
    expect(broker.subscribedTo(`${listTopicPrefix(scope)}files/s4/`)).toEqual([]);
    await sync.close();

    // A terminal at version 1 is older than the chain's first base (2): snapshot.
    const behind = rig();
    behind.broker.publish(buildRelease(authority.privateKey, scope, states, { firstDeltaBase: 2 }).retained);
    behind.installer.version = 1;
    behind.connect();
    await waitFor(() => behind.installer.version === 4, 10_000, 'version 4 by snapshot');
    expect(behind.installer.applied).toEqual(['snapshot:4']);
    await behind.sync.close();
  });

  it('takes a newer manifest that comes mid-install after that install, without installing a file twice', async () => {
    const states = [randomState(200)];
    for (let v = 2; v <= 4; v++) states.push(evolve(states.at(-1)!, 20));
    const installer = new GatedInstaller();
    const { broker, sync, connect, log } = rig({ installer });
    broker.publish(buildRelease(authority.privateKey, scope, states.slice(0, 2)).retained);
    connect();
    // The log, not the installer: lists.synced comes after the install resolves.
    const synced = (version: number) => log.messages('lists.synced').some((l) => l.version === version);
    await waitFor(() => synced(2), 10_000, 'version 2 synced');

    const release = installer.holdNext();
    broker.publish(buildRelease(authority.privateKey, scope, states.slice(0, 3)).retained);
    sync.resync();
    await waitFor(() => installer.waiting, 10_000, 'the delta to 3 being installed');
    broker.publish(buildRelease(authority.privateKey, scope, states).retained);
    sync.resync();
    await waitFor(() => log.messages('lists.sync-deferred').some((l) => l.version === 4), 10_000, 'the manifest of 4 deferred');
    release();
    await waitFor(() => synced(4), 10_000, 'version 4 synced');
    expect(installer.applied).toEqual(['snapshot:2', 'delta:3', 'delta:4']);
    expect(installer.holds(states[3]!)).toBe(true);
    expect(log.messages('lists.synced').map((l) => l.version)).toEqual([2, 4]);
    await sync.close();
  });

  it('falls back to the snapshot when a delta leaves the wrong count', async () => {
    const states = [randomState(100)];
    states.push(evolve(states[0]!, 10));
    const { installer, broker, sync, connect, log } = rig();
    broker.publish(buildRelease(authority.privateKey, scope, [states[0]!]).retained);
    connect();
    await waitFor(() => installer.version === 1, 10_000, 'version 1');
    installer.failNextWith = 'count-mismatch';
    broker.publish(buildRelease(authority.privateKey, scope, states).retained);
    sync.resync();
    await waitFor(() => installer.version === 2, 10_000, 'version 2');
    expect(installer.applied).toEqual(['snapshot:1', 'snapshot:2']);
    expect(log.messages('lists.delta-fallback')).toHaveLength(1);
    expect(installer.holds(states[1]!)).toBe(true);
    await sync.close();
  });

  it('refuses a tampered chunk, and never installs from it', async () => {
    const { installer, broker, sync, connect, log } = rig({ retryMs: 300 });
    const v1 = randomState(200);
    const release = buildRelease(authority.privateKey, scope, [v1]);
    broker.publish(release.retained);
    const topic = listChunkTopic(scope, 's1', 2);
    const good = broker.retained.get(topic)!;
    const bad = Buffer.from(good);
    bad[10] = bad[10]! ^ 0xff;
    broker.retained.set(topic, bad);
    connect();
    await waitFor(() => log.messages('lists.sync-failed').length > 0, 10_000, 'sync gives up on the bad chunk');
    expect(log.messages('lists.chunk-refused').length).toBeGreaterThanOrEqual(3);
    expect(installer.version).toBeNull();
    // The broker gets the right bytes again: the retry completes.
    broker.retained.set(topic, good);
    await waitFor(() => installer.version === 1, 10_000, 'installed after the retry');
    expect(installer.holds(v1)).toBe(true);
    await sync.close();
  });

  it('refuses a manifest signed by an unknown key, for another scope, or older than the installed list', async () => {
    const states = [randomState(50), randomState(50), randomState(50)];
    const { installer, broker, sync, connect, log } = rig();
    broker.publish(buildRelease(stranger.privateKey, scope, states).retained);
    connect();
    await waitFor(() => log.messages('lists.manifest-refused').length === 1, 5000, 'unknown key refused');
    expect(log.messages('lists.manifest-refused')[0]).toMatchObject({ code: 'unknown-key' });

    const other = buildRelease(authority.privateKey, 'site-b', states);
    broker.retained.set(listManifestTopic(scope), other.retained.get(listManifestTopic('site-b'))!);
    sync.resync();
    await waitFor(() => log.messages('lists.manifest-refused').length === 2, 5000, 'wrong scope refused');
    expect(log.messages('lists.manifest-refused')[1]).toMatchObject({ code: 'wrong-scope' });

    installer.version = 3;
    broker.publish(buildRelease(authority.privateKey, scope, states.slice(0, 2)).retained);
    sync.resync();
    await waitFor(() => log.messages('lists.manifest-refused').length === 3, 5000, 'rollback refused');
    expect(log.messages('lists.manifest-refused')[2]).toMatchObject({ code: 'rollback' });
    expect(installer.applied).toEqual([]);
    expect(broker.subscribedTo(`${listTopicPrefix(scope)}files/`)).toEqual([]);
    await sync.close();
  });

  it('refuses a manifest already expired by the terminal clock and keeps the list it has', async () => {
    const states = [randomState(50), randomState(60)];
    let nowMs = Date.now();
    const { installer, broker, sync, connect, log } = rig({ nowMs: () => nowMs });
    broker.publish(buildRelease(authority.privateKey, scope, states.slice(0, 1)).retained);
    connect();
    await waitFor(() => installer.version === 1, 10_000, 'v1 installed');
    nowMs += 8 * 86_400_000; // releases here expire after 7 days
    broker.publish(buildRelease(authority.privateKey, scope, states).retained);
    sync.resync();
    const refused = await waitFor(() => log.messages('lists.manifest-refused')[0], 5000, 'expired refused');
    expect(refused).toMatchObject({ code: 'expired', reason: expect.stringContaining('version 2 expired at') });
    expect(installer.version).toBe(1);
    expect(installer.holds(states[0]!)).toBe(true);
    await sync.close();
  });

  it('rotates keys: while both keys are trusted, a release signed by either is taken', async () => {
    const next = generateKeyPairSync('ed25519');
    const trusted = [authority.publicKey, next.publicKey];
    const installer = new MapInstaller(trusted);
    const { broker, sync, connect } = rig({ installer, trusted });
    const states = [randomState(40), randomState(40)];
    // Version 1 by the old key, the manifest re-signed by the new one; version 2 all new key.
    const v1 = buildRelease(authority.privateKey, scope, states.slice(0, 1));
    broker.publish(v1.retained);
    broker.retained.set(listManifestTopic(scope), signManifest(v1.manifest, next.privateKey));
    connect();
    await waitFor(() => installer.version === 1, 5000, 'version 1 installed');
    broker.publish(buildRelease(next.privateKey, scope, states).retained);
    sync.resync();
    await waitFor(() => installer.version === 2, 5000, 'version 2 under the new key');
    expect(installer.holds(states[1]!)).toBe(true);
    await sync.close();
  });

  it('resumes an interrupted transfer after a restart, fetching only the missing chunks', async () => {
    const downloadDir = join(tempDir(), 'downloads');
    const v1 = randomState(600);
    const release = buildRelease(authority.privateKey, scope, [v1]);
    const chunks = release.manifest.snapshot.chunks.length;

    // First run: the link drops after some chunks arrive.
    const first = rig({ downloadDir });
    first.broker.publish(release.retained);
    let delivered = 0;
    const link = first.broker.connect((topic, payload) => {
      if (topic.includes('/files/')) delivered++;
      first.sync.handle(topic, payload);
      if (delivered === 6) first.broker.disconnect();
    });
    first.sync.attach(link);
    const part = join(downloadDir, scope, 's1.part');
    await waitFor(() => delivered >= 6 && existsSync(part), 5000, 'six chunks delivered');
    await first.sync.close();
    expect(first.installer.version).toBeNull();

    // Second run, a new process: same download folder.
    const second = rig({ downloadDir });
    second.broker.publish(release.retained);
    second.connect();
    await waitFor(() => second.log.messages('lists.synced').length === 1, 10_000, 'installed after resume');
    expect(second.installer.holds(v1)).toBe(true);
    const fetched = second.broker.subscribedTo(`${listTopicPrefix(scope)}files/s1/`).length;
    expect(fetched).toBeLessThanOrEqual(chunks - 4);
    expect(existsSync(part)).toBe(false);
    await second.sync.close();
  });
});
