import type { KeyObject } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Aedes } from 'aedes';
import type { Logger } from '../../protocol/logger.js';
import { chunkOf, listScopeSchema, sha256Hex, verifyManifest, type ListManifest } from '../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic } from '../../protocol/topics.js';
import { brokerPublish } from '../mqtt/brokerPublish.js';
import { Poller } from '../poller.js';
import { listFileName, listsRoot, manifestFileName, scopeDir } from './listFiles.js';

/**
 * Puts the published lists on the central's own broker (issue 4): for each scope folder
 * with a manifest.json under `{dataDir}/lists/`, every chunk of every file the manifest
 * names goes out as a retained QoS 1 message on its chunk topic, THEN the manifest,
 * retained on the scope's manifest topic: a terminal that reads a manifest finds its
 * chunks already there. Chunk topics of files that left the manifest are then cleared with
 * an empty retained payload, which deletes a retained message [MQTT-3.3.1-10].
 *
 * `qrgate lists publish` runs in another process, so the folders are polled: one stat of
 * each manifest.json a second. A file already put out by this process (same name and
 * SHA-256) is not sent again. Retained messages live in aedes's in-memory persistence, so
 * the central holds the current files in memory (the chunks are slices of one buffer per
 * file) and puts them out again at each start.
 *
 * Nothing here may take the central down: a manifest or file that cannot be read, does not
 * verify with the authority key, or does not match its hashes is logged and skipped, and
 * tried again when the manifest changes or `retryMs` later.
 */

export interface ListDistributorDeps {
  readonly dataDir: string;
  /** The authority's public key: what is put out must verify as a terminal will verify it. */
  readonly trustedKeys: readonly KeyObject[];
  readonly broker: Pick<Aedes, 'publish'>;
  readonly logger: Logger;
  /** How often the manifests are looked at, ms. Default 1000. */
  readonly pollMs?: number;
  /** After a failure, try the same manifest again this much later, ms. Default 30000. */
  readonly retryMs?: number;
  /** A cluster node's materialising of the shared versions (sharedLists.ts), before each pass. */
  readonly beforePass?: () => Promise<void>;
}

interface PublishedFile {
  readonly sha256: string;
  readonly chunks: number;
}

interface ScopeState {
  /** What manifest.json looked like (inode, size, mtime) when last handled. */
  seen: string | null;
  failedAtMs: number | null;
  /** Files whose chunks are retained on the broker now, by name. */
  readonly files: Map<string, PublishedFile>;
}

class DistributeError extends Error {
  readonly code = 'list-file-mismatch';
}

const defaultPollMs = 1000;
const defaultRetryMs = 30_000;

export class ListDistributor {
  private readonly scopes = new Map<string, ScopeState>();
  private readonly poller: Poller;

  constructor(private readonly deps: ListDistributorDeps) {
    this.poller = new Poller(() => this.pass(), deps.pollMs ?? defaultPollMs);
  }

  /** Puts out what is current now, then keeps watching. Resolves once the first pass is done. */
  async start(): Promise<void> {
    if (this.poller.isStopped) return;
    await this.poller.poll();
    this.poller.start();
  }

  /** Stops watching and waits for a pass in progress. Safe to call twice. */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One pass over every scope folder; a pass still running is not overlapped. */
  poll(): Promise<void> {
    return this.poller.poll();
  }

  private async pass(): Promise<void> {
    await this.deps.beforePass?.().catch((err: unknown) => this.deps.logger.error({ err }, 'lists.materialise-failed'));
    let entries: string[];
    try {
      entries = await readdir(listsRoot(this.deps.dataDir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.logger.error({ err }, 'lists.scan-failed');
      return;
    }
    for (const scope of entries) {
      if (this.poller.isStopped) return;
      if (listScopeSchema.safeParse(scope).success) await this.visit(scope);
    }
  }

  private async visit(scope: string): Promise<void> {
    const file = join(scopeDir(this.deps.dataDir, scope), manifestFileName);
    let stats: Stats;
    try {
      stats = await stat(file);
    } catch {
      return; // a folder without a manifest (yet): nothing published
    }
    if (!stats.isFile()) return;
    const seen = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    let state = this.scopes.get(scope);
    if (state === undefined) {
      state = { seen: null, failedAtMs: null, files: new Map() };
      this.scopes.set(scope, state);
    }
    const retryDue = state.failedAtMs !== null && Date.now() - state.failedAtMs >= (this.deps.retryMs ?? defaultRetryMs);
    if (state.seen === seen && !retryDue) return;
    state.seen = seen;
    try {
      await this.distribute(scope, file, state);
      state.failedAtMs = null;
    } catch (err) {
      state.failedAtMs = Date.now();
      this.deps.logger.error({ scope, file, err }, 'lists.distribute-failed');
    }
  }

  private async distribute(scope: string, file: string, state: ScopeState): Promise<void> {
    const started = performance.now();
    const payload = await readFile(file);
    // Refused here exactly as a terminal would refuse it (ListError: code and message).
    const { manifest } = verifyManifest(payload, { trustedKeys: this.deps.trustedKeys, scope, installedVersion: null });
    let files = 0;
    let chunks = 0;
    let bytes = 0;
    for (const described of [manifest.snapshot, ...manifest.deltas]) {
      if (state.files.get(described.name)?.sha256 === described.sha256) continue;
      chunks += await this.putFile(scope, manifest, described.name, state);
      files++;
      bytes += described.bytes;
    }
    await this.publish(listManifestTopic(scope), payload);
    const keep = new Set([manifest.snapshot.name, ...manifest.deltas.map((d) => d.name)]);
    let cleared = 0;
    for (const [name, published] of state.files) {
      if (keep.has(name)) continue;
      await this.clear(scope, name, 0, published.chunks);
      state.files.delete(name);
      cleared++;
    }
    this.deps.logger.info(
      { scope, version: manifest.version, files, chunks, bytes, cleared, ms: Math.round(performance.now() - started) },
      'lists.distributed',
    );
  }

  /** Retains every chunk of one file, each checked against the manifest first. Returns the chunk count. */
  private async putFile(scope: string, manifest: ListManifest, name: string, state: ScopeState): Promise<number> {
    const described = name === manifest.snapshot.name ? manifest.snapshot : manifest.deltas.find((d) => d.name === name)!;
    const path = join(scopeDir(this.deps.dataDir, scope), listFileName(name));
    const data = await readFile(path);
    if (data.length !== described.bytes) {
      throw new DistributeError(`${path} is ${data.length} bytes, the manifest says ${described.bytes}: publish the list again`);
    }
    for (const [index, expected] of described.chunks.entries()) {
      const chunk = chunkOf(data, index, manifest.chunkBytes);
      if (sha256Hex(chunk) !== expected) throw new DistributeError(`${path} chunk ${index} does not match the manifest: publish the list again`);
      await this.publish(listChunkTopic(scope, name, index), chunk);
    }
    // A file put out before under this name with more chunks (a restored data folder)
    // must not leave its tail behind.
    const before = state.files.get(name);
    if (before !== undefined && before.chunks > described.chunks.length) await this.clear(scope, name, described.chunks.length, before.chunks);
    state.files.set(name, { sha256: described.sha256, chunks: described.chunks.length });
    return described.chunks.length;
  }

  private async clear(scope: string, name: string, from: number, to: number): Promise<void> {
    for (let index = from; index < to; index++) await this.publish(listChunkTopic(scope, name, index), Buffer.alloc(0));
  }

  private publish(topic: string, payload: Buffer): Promise<void> {
    return brokerPublish(this.deps.broker, topic, payload, { retain: true });
  }
}
