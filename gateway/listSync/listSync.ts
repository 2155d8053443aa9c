import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ListError, planFetch, verifyManifest, type ListManifest, type ManifestFile } from '../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic, parseTopic } from '../../protocol/topics.js';
import type { ApplyPhases } from '../lists/applyResult.js';
import { PartFile } from './partFile.js';

/** What the sync needs from the connection of the moment (gateway/uplink/uplink.ts). */
export interface SyncLink {
  subscribe(topics: readonly string[]): void;
  unsubscribe(topics: readonly string[]): void;
}

export interface ApplyRequest {
  readonly file: string;
  readonly expected: { readonly sha256: string; readonly version: number; readonly resultCount: number };
}

export interface AppliedList {
  readonly scope: string;
  readonly version: number;
  readonly kind: 'snapshot' | 'delta';
  readonly entries: number;
  readonly changed: boolean;
  readonly applyMs: number;
  /** Where applyMs went (gateway/lists/applyResult.ts), logged for whoever tunes an apply. */
  readonly phases?: ApplyPhases;
}

/** The worker that verifies and installs a downloaded file (gateway/lists/listApplier.ts). */
export interface ListInstaller {
  apply(request: ApplyRequest): Promise<AppliedList>;
}

export interface ListSyncDeps {
  readonly scopes: readonly string[];
  readonly trustedKeys: readonly KeyObject[];
  /** The version installed now for a scope, null when none (the list cache). */
  readonly installedVersion: (scope: string) => number | null;
  /** The terminal's time (gateway/clock.ts), ms: manifests already expired then are refused. Default: no expiry check. */
  readonly nowMs?: () => number;
  readonly installer: ListInstaller;
  /** Where part files live: `{dataDir}/lists/downloads`. */
  readonly downloadDir: string;
  readonly logger: Logger;
  /** Chunks requested at once per scope. Default 8: 512 KiB in flight at 64 KiB chunks. */
  readonly window?: number;
  /** A requested chunk not seen for this long is asked for again. Default 15 s. */
  readonly chunkTimeoutMs?: number;
  /** After a refused file or a chunk that keeps failing its hash, try again this much later. Default 60 s. */
  readonly retryMs?: number;
}

const DEFAULT_WINDOW = 8;
const DEFAULT_CHUNK_TIMEOUT_MS = 15_000;
const DEFAULT_RETRY_MS = 60_000;
/** A chunk whose retained copy fails its hash this often is not going to get better by asking. */
const MAX_BAD_CHUNKS = 3;
/** Apply errors that a full snapshot cures (Italy's revocation list: reload when counts disagree). */
const snapshotCures = new Set(['count-mismatch', 'base-missing']);

interface Job {
  readonly manifest: ListManifest;
  readonly files: readonly ManifestFile[];
  readonly startedAtMs: number;
  fileIndex: number;
  part: PartFile | null;
  /** Chunk index -> when it was last requested (performance.now()). */
  readonly requested: Map<number, number>;
  readonly badChunks: Map<number, number>;
  /** True while the part file is opening or the installer runs: nothing to request. */
  busy: boolean;
  done: boolean;
}

/**
 * Keeps every scope's list current over the terminal's one MQTT connection (issue 4,
 * DESIGN.md "Signed card list"). A scope's retained, signed manifest says which version is
 * current and which files lead there; the sync fetches the delta chain from the installed
 * version when the manifest offers it, else the snapshot, one chunk topic at a time within
 * a small window, each chunk checked against the manifest before it is written. A finished
 * file goes to the installer, which verifies it again end to end and swaps it in off the
 * scan thread. Nothing here blocks a scan: chunk hashing is 64 KiB at a time and all file
 * I/O is asynchronous.
 *
 * Everything survives a lost connection or a restart: part files stay on disk, and the
 * retained manifest that arrives on the next connect resumes the same job.
 */
export class ListSync {
  private readonly scopes: Map<string, ScopeSync>;
  private link: SyncLink | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: ListSyncDeps) {
    this.scopes = new Map(deps.scopes.map((scope) => [scope, new ScopeSync(scope, deps, () => this.link)]));
  }

  /** A connection is up: ask for every scope's manifest (the broker sends the retained one). */
  attach(link: SyncLink): void {
    if (this.closed) return;
    this.link = link;
    link.subscribe([...this.scopes.keys()].map(listManifestTopic));
    const tickMs = Math.max(250, Math.floor((this.deps.chunkTimeoutMs ?? DEFAULT_CHUNK_TIMEOUT_MS) / 3));
    this.timer ??= setInterval(() => {
      for (const scope of this.scopes.values()) scope.tick();
    }, tickMs);
    this.timer.unref();
  }

  /** The connection is gone; its subscriptions went with it (clean session). */
  detach(): void {
    this.link = null;
    for (const scope of this.scopes.values()) scope.detached();
  }

  /** `sync-lists` command: ask again for the retained manifests, as on a connect. */
  resync(): void {
    const link = this.link;
    if (!link) return;
    const topics = [...this.scopes.keys()].map(listManifestTopic);
    link.unsubscribe(topics);
    link.subscribe(topics);
  }

  /** Takes a message if it is on a list topic of one of our scopes; false otherwise. */
  handle(topic: string, payload: Buffer): boolean {
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'list') return false;
    const scope = this.scopes.get(parsed.scope);
    if (!scope || this.closed) return true;
    if (parsed.rest === 'manifest') {
      scope.onManifest(payload);
      return true;
    }
    const match = /^files\/([a-z0-9-]+)\/(\d+)$/.exec(parsed.rest);
    if (match) scope.onChunk(match[1]!, Number(match[2]), payload);
    return true;
  }

  /** Resolves once every scope is idle: no job, or a job waiting for the network. For tests and stop. */
  async close(): Promise<void> {
    this.closed = true;
    this.link = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.scopes.values()].map((scope) => scope.close()));
  }
}

class ScopeSync {
  private job: Job | null = null;
  /** A newer manifest that came while the job was installing a file: it replaces the job after. */
  private pending: ListManifest | null = null;
  private retryAtMs = 0;
  private readonly log: Logger;

  constructor(
    private readonly scope: string,
    private readonly deps: ListSyncDeps,
    private readonly link: () => SyncLink | null,
  ) {
    this.log = deps.logger.child({ scope });
  }

  onManifest(payload: Buffer): void {
    if (payload.length === 0) return; // a cleared retained manifest: nothing published
    let manifest: ListManifest;
    try {
      ({ manifest } = verifyManifest(payload, {
        trustedKeys: this.deps.trustedKeys,
        scope: this.scope,
        installedVersion: this.deps.installedVersion(this.scope),
        ...(this.deps.nowMs ? { nowMs: this.deps.nowMs() } : {}),
      }));
    } catch (err) {
      const code = err instanceof ListError ? err.code : 'malformed';
      this.log.warn({ code, reason: (err as Error).message }, 'lists.manifest-refused');
      return;
    }
    const installed = this.deps.installedVersion(this.scope);
    if (this.job && !this.job.done && this.job.manifest.version === manifest.version) {
      this.pump(); // the same manifest again after a reconnect: carry on
      return;
    }
    if (installed === manifest.version) {
      this.log.debug({ version: installed }, 'lists.up-to-date');
      return;
    }
    // Replacing a job mid-install would fetch and install the same file twice: the new plan
    // is made from the version that install leaves behind.
    if (this.job?.busy) {
      this.pending = manifest;
      this.log.info({ version: manifest.version, busyWith: this.job.files[this.job.fileIndex]?.name }, 'lists.sync-deferred');
      return;
    }
    this.start(manifest, planFetch(manifest, installed));
  }

  onChunk(name: string, index: number, payload: Buffer): void {
    const job = this.job;
    const file = job?.files[job.fileIndex];
    // Retained chunks of an older or newer file, or a cleared one: not what we asked for.
    if (!job || job.done || !file || file.name !== name || !job.requested.has(index) || payload.length === 0) return;
    const part = job.part;
    if (!part) return;
    job.requested.delete(index);
    this.link()?.unsubscribe([listChunkTopic(this.scope, name, index)]);
    part
      .write(index, payload)
      .then((verdict) => {
        if (this.job !== job) return;
        if (verdict === 'bad-hash') this.chunkRefused(job, file, index);
        if (part.complete) void this.finishFile(job, part);
        else this.pump();
      })
      .catch((err: unknown) => this.fail(job, 'io', err));
  }

  /** Timer: re-ask for chunks that did not come, and retry a job that failed. */
  tick(): void {
    const job = this.job;
    const link = this.link();
    if (!link || !job || job.busy) return;
    const now = performance.now();
    if (job.done) {
      if (now >= this.retryAtMs) this.start(job.manifest, planFetch(job.manifest, this.deps.installedVersion(this.scope)));
      return;
    }
    const timeoutMs = this.deps.chunkTimeoutMs ?? DEFAULT_CHUNK_TIMEOUT_MS;
    const file = job.files[job.fileIndex]!;
    const late = [...job.requested].filter(([, at]) => now - at >= timeoutMs).map(([index]) => index);
    if (late.length === 0) return;
    this.log.warn({ file: file.name, chunks: late.length }, 'lists.chunks-late');
    const topics = late.map((index) => listChunkTopic(this.scope, file.name, index));
    // Re-subscribing makes the broker send the retained message again [MQTT-3.8.4-3].
    link.unsubscribe(topics);
    for (const index of late) job.requested.set(index, now);
    link.subscribe(topics);
  }

  detached(): void {
    this.job?.requested.clear();
  }

  async close(): Promise<void> {
    const job = this.job;
    this.job = null;
    this.pending = null;
    await job?.part?.close();
  }

  private start(manifest: ListManifest, files: ManifestFile[]): void {
    const previous = this.job;
    if (previous?.part) void previous.part.close(); // kept on disk: a later job may resume it
    const installed = this.deps.installedVersion(this.scope);
    // Already there, or past it (a technician's `lists import`): nothing to fetch.
    if (files.length === 0 || (installed !== null && installed >= manifest.version)) {
      this.job = null;
      return;
    }
    const job: Job = {
      manifest,
      files,
      startedAtMs: performance.now(),
      fileIndex: 0,
      part: null,
      requested: new Map(),
      badChunks: new Map(),
      busy: false,
      done: false,
    };
    this.job = job;
    this.log.info(
      { version: manifest.version, files: files.map((f) => f.name), bytes: files.reduce((sum, f) => sum + f.bytes, 0) },
      'lists.sync-started',
    );
    void this.openFile(job);
  }

  private async openFile(job: Job): Promise<void> {
    const file = job.files[job.fileIndex]!;
    job.busy = true;
    try {
      const part = await PartFile.open(this.partPath(file), file, job.manifest.chunkBytes);
      if (this.job !== job) {
        await part.close();
        return;
      }
      job.part = part;
      job.busy = false;
      if (this.startPending()) return;
      this.log.info({ file: file.name, bytes: file.bytes, chunks: part.chunkCount, onDisk: part.received }, 'lists.fetch-started');
      if (part.complete) await this.finishFile(job, part);
      else this.pump();
    } catch (err) {
      this.fail(job, 'io', err);
    }
  }

  /** Keeps `window` chunk requests in flight for the current file. */
  private pump(): void {
    const job = this.job;
    const link = this.link();
    const part = job?.part;
    if (!job || !link || !part || job.busy || job.done) return;
    const window = this.deps.window ?? DEFAULT_WINDOW;
    const file = job.files[job.fileIndex]!;
    const now = performance.now();
    const topics: string[] = [];
    for (let index = 0; index < part.chunkCount && job.requested.size < window; index++) {
      if (part.has(index) || job.requested.has(index)) continue;
      job.requested.set(index, now);
      topics.push(listChunkTopic(this.scope, file.name, index));
    }
    if (topics.length > 0) link.subscribe(topics);
  }

  private chunkRefused(job: Job, file: ManifestFile, index: number): void {
    const failures = (job.badChunks.get(index) ?? 0) + 1;
    job.badChunks.set(index, failures);
    this.log.warn({ file: file.name, index, failures }, 'lists.chunk-refused');
    if (failures >= MAX_BAD_CHUNKS) this.fail(job, 'bad-chunk', new Error(`chunk ${index} of ${file.name} failed its hash ${failures} times`));
  }

  private async finishFile(job: Job, part: PartFile): Promise<void> {
    if (job.busy) return;
    job.busy = true;
    const file = part.file;
    try {
      await part.finish();
      await part.close();
      this.log.info({ file: file.name, bytes: file.bytes }, 'lists.fetched');
      const applied = await this.deps.installer.apply({
        file: part.path,
        expected: { sha256: file.sha256, version: file.version, resultCount: file.resultCount },
      });
      await part.discard();
      this.log.info(
        {
          version: applied.version,
          kind: applied.kind,
          entries: applied.entries,
          applyMs: Math.round(applied.applyMs),
          ...(applied.phases ? { phases: Object.fromEntries(Object.entries(applied.phases).map(([step, ms]) => [step, Math.round(ms)])) } : {}),
        },
        'lists.applied',
      );
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      await part.discard().catch(() => undefined);
      if (this.job !== job) return;
      job.busy = false;
      if (this.startPending()) return;
      if (typeof code === 'string' && snapshotCures.has(code) && file !== job.manifest.snapshot) {
        this.log.warn({ file: file.name, code, reason: (err as Error).message }, 'lists.delta-fallback');
        this.start(job.manifest, [job.manifest.snapshot]);
        return;
      }
      this.fail(job, typeof code === 'string' ? code : 'io', err);
      return;
    }
    if (this.job !== job) return;
    job.busy = false;
    job.part = null;
    if (this.startPending()) return;
    job.requested.clear();
    job.fileIndex++;
    if (job.fileIndex < job.files.length) {
      await this.openFile(job);
      return;
    }
    job.done = true;
    this.job = null;
    this.log.info(
      { version: job.manifest.version, files: job.files.length, ms: Math.round(performance.now() - job.startedAtMs) },
      'lists.synced',
    );
  }

  /** Gives the job up until the retry time; the next manifest replaces it sooner. */
  private fail(job: Job, code: string, err: unknown): void {
    if (this.job !== job || job.done) return;
    const link = this.link();
    const file = job.files[job.fileIndex];
    if (link && file && job.requested.size > 0) {
      link.unsubscribe([...job.requested.keys()].map((index) => listChunkTopic(this.scope, file.name, index)));
    }
    job.requested.clear();
    job.done = true;
    job.busy = false;
    void job.part?.close();
    job.part = null;
    const retryMs = this.deps.retryMs ?? DEFAULT_RETRY_MS;
    this.retryAtMs = performance.now() + retryMs;
    this.log.error({ version: job.manifest.version, file: file?.name, code, reason: (err as Error)?.message, retryMs }, 'lists.sync-failed');
    this.startPending();
  }

  /** Starts the manifest that came while the job was busy; false when none did. */
  private startPending(): boolean {
    const manifest = this.pending;
    if (!manifest) return false;
    this.pending = null;
    this.start(manifest, planFetch(manifest, this.deps.installedVersion(this.scope)));
    return true;
  }

  private partPath(file: ManifestFile): string {
    return join(this.deps.downloadDir, this.scope, `${file.name}.part`);
  }
}
