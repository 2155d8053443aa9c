import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultChunkBytes,
  fileName,
  ListBodyBuilder,
  listScopeSchema,
  listStatuses,
  signManifest,
  verifySignedList,
  type ListHeaderInput,
} from '../../protocol/lists/index.js';
import { isUniqueViolation, type RegistryDb } from '../store/sql/registryDb.js';
import { ListPublishError } from './errors.js';
import {
  commitStaged,
  discardStaged,
  listFileName,
  lockScope,
  manifestFileName,
  removeUnreferenced,
  scopeDir,
  stageFile,
  writeFileAtomically,
  type StagedFile,
} from './listFiles.js';
import { buildManifest, maxChainDeltas, type DeltaCandidate } from './manifestBuilder.js';
import { shareManifest } from './sharedLists.js';
import { walkScope, type PublishedEntry, type StatusCode } from './scopeDiff.js';

/**
 * `qrgate lists publish`: the next version of a scope's list, built from the registry
 * (DESIGN.md "Signed card list", issue 4). One call:
 *
 * 1. reads the scope's entries in keyset pages in one read transaction (a snapshot that
 *    takes no write lock, on SQLite and PostgreSQL alike) and, in the same pass, the entries
 *    of the previous version's signed snapshot (its file, verified again), and builds the
 *    snapshot (every entry, ascending ref: a terminal bulk-loads its B-tree by appending)
 *    and the delta from the previous version (new refs, changed statuses, `remove` for refs
 *    that left);
 * 2. signs both, verifies them as a terminal will, and writes them fsynced under temp names;
 * 3. in one short write transaction: checks no other publish got there first, records the
 *    version (its primary key holds off a concurrent one), and renames the files into place
 *    before the commit. Files are named before the commit, so a
 *    recorded version always has its files; a crash in between leaves an orphan file the
 *    next publish of that version overwrites. What was published is the signed file itself,
 *    so nothing else is written: a first publish of a million entries once held the write
 *    lock ~2.5 s to copy them into a table, and the central's commits queued behind it;
 * 4. writes the signed manifest (snapshot + recent delta chain) and deletes the files it no
 *    longer names. The running central notices the new manifest and distributes it.
 */

export interface PublishListOptions {
  readonly dataDir: string;
  readonly scope: string;
  /** The list authority's Ed25519 private key. */
  readonly privateKey: KeyObject;
  /** Days from now until terminals treat the list as stale. Default 7: publish at least weekly. */
  readonly expiresInDays?: number;
  readonly chunkBytes?: number;
  readonly now?: () => number;
}

export interface PublishListResult {
  readonly scope: string;
  readonly version: number;
  /** Entries in the new version. */
  readonly count: number;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  readonly snapshotBytes: number;
  /** Null for a scope's first version, which has no delta. */
  readonly deltaBytes: number | null;
  /** Reading the registry, building and signing both files, ms. */
  readonly buildSignMs: number;
  /** Reading to manifest written, ms. */
  readonly totalMs: number;
  readonly issuedAt: string;
  readonly expiresAt: string;
  /** Deltas the manifest offers (oldest first), by name. */
  readonly chain: readonly string[];
  /** Files deleted because the manifest no longer names them. */
  readonly deletedFiles: readonly string[];
  /**
   * Set when the previous version's snapshot could not be read back (deleted, damaged, or
   * signed by a key since replaced): this version has no delta, terminals take the snapshot.
   */
  readonly previousSnapshotUnreadable?: string;
}

export const defaultExpiresInDays = 7;
const dayMs = 86_400_000;

interface VersionRow {
  readonly version: number;
  readonly entry_count: number;
  readonly snapshot_file: string;
}

interface Built {
  readonly previous: VersionRow | null;
  readonly snapshot: Buffer;
  readonly delta: Buffer | null;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  /** Why the previous snapshot could not be read back; null when it was (or there is none). */
  readonly previousUnreadable: string | null;
}

function checkOptions(options: PublishListOptions): number {
  const scope = listScopeSchema.safeParse(options.scope);
  if (!scope.success) throw new ListPublishError('invalid-option', `scope "${options.scope}": ${scope.error.issues[0]?.message ?? 'invalid'}`);
  const days = options.expiresInDays ?? defaultExpiresInDays;
  if (!Number.isFinite(days) || days <= 0 || days > 3650) {
    throw new ListPublishError('invalid-option', `expires-in-days must be above 0 and at most 3650, got ${days}`);
  }
  return days;
}

export async function publishList(db: RegistryDb, options: PublishListOptions): Promise<PublishListResult> {
  const expiresInDays = checkOptions(options);
  const release = lockScope(options.dataDir, options.scope);
  try {
    return await publishLocked(db, options, expiresInDays);
  } finally {
    release();
  }
}

async function publishLocked(db: RegistryDb, options: PublishListOptions, expiresInDays: number): Promise<PublishListResult> {
  const { scope, privateKey } = options;
  const publicKey = createPublicKey(privateKey);
  const chunkBytes = options.chunkBytes ?? defaultChunkBytes;
  const dir = scopeDir(options.dataDir, scope);
  const started = performance.now();
  const nowMs = (options.now ?? Date.now)();
  const issuedAt = new Date(nowMs).toISOString();
  const expiresAt = new Date(nowMs + expiresInDays * dayMs).toISOString();

  const built = await readAndBuild(db, scope, { dir, publicKey }, (header, builder) => builder.finish({ ...header, scope, issuedAt, expiresAt }, privateKey));
  const buildSignMs = performance.now() - started;
  const version = (built.previous?.version ?? 0) + 1;

  // Checked as a terminal will check them before anything is named or recorded: the next
  // publish diffs against this snapshot's file, read back and verified again.
  const snapshot = verifySignedList(built.snapshot, { trustedKeys: [publicKey], scope });
  const delta = built.delta === null ? null : verifySignedList(built.delta, { trustedKeys: [publicKey], scope });

  const snapshotName = fileName(version);
  const deltaName = built.previous === null ? null : fileName(version, built.previous.version);
  const staged: StagedFile[] = [stageFile(join(dir, listFileName(snapshotName)), built.snapshot)];
  try {
    if (built.delta !== null && deltaName !== null) staged.push(stageFile(join(dir, listFileName(deltaName)), built.delta));
    const concurrent = (latest: number | null) =>
      new ListPublishError('concurrent-publish', `another publish of "${scope}" recorded version ${latest ?? '?'} while this one ran; nothing was recorded: run it again`);
    try {
      await db.transaction(async (tx) => {
        const latest = await latestVersion(tx, scope);
        if ((latest?.version ?? null) !== (built.previous?.version ?? null)) throw concurrent(latest?.version ?? null);
        await tx.run(
          `INSERT INTO list_versions (scope, version, issued_at_ms, expires_at_ms, entry_count, snapshot_file, delta_file, delta_count, published_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            scope,
            version,
            nowMs,
            Date.parse(expiresAt),
            snapshot.header.count,
            listFileName(snapshotName),
            deltaName === null ? null : listFileName(deltaName),
            delta === null ? null : delta.header.count,
            Date.now(),
          ],
        );
        // After the insert: once it holds the version's key, no other publish can name these files.
        commitStaged(staged);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw concurrent(version);
      throw err;
    }
  } finally {
    discardStaged(staged); // a no-op for files already renamed
  }

  const manifest = buildManifest({
    scope,
    version,
    issuedAt,
    expiresAt,
    count: snapshot.header.count,
    snapshot: built.snapshot,
    deltas: deltaCandidates(await recordedDeltas(db, scope, version), dir, version, built.delta),
    chunkBytes,
  });
  const signedManifest = signManifest(manifest, privateKey);
  writeFileAtomically(join(dir, manifestFileName), signedManifest);
  // In a cluster every node serves these bytes (sharedLists.ts); the older deltas of the chain
  // were shared by their own publish, or are read from this folder as the manifest was built.
  await shareManifest(db, scope, signedManifest, manifest, (name) =>
    name === snapshotName ? built.snapshot : name === deltaName && built.delta !== null ? built.delta : readFileSync(join(dir, listFileName(name))),
  );
  const deletedFiles = removeUnreferenced(dir, new Set([manifest.snapshot.name, ...manifest.deltas.map((d) => d.name)]), Date.now());

  return {
    scope,
    version,
    count: snapshot.header.count,
    added: built.added,
    changed: built.changed,
    removed: built.removed,
    snapshotBytes: built.snapshot.length,
    deltaBytes: built.delta?.length ?? null,
    buildSignMs: Math.round(buildSignMs),
    totalMs: Math.round(performance.now() - started),
    issuedAt,
    expiresAt,
    chain: manifest.deltas.map((d) => d.name),
    deletedFiles,
    ...(built.previousUnreadable === null ? {} : { previousSnapshotUnreadable: built.previousUnreadable }),
  };
}

async function latestVersion(db: RegistryDb, scope: string): Promise<VersionRow | null> {
  return (await db.get<VersionRow>('SELECT version, entry_count, snapshot_file FROM list_versions WHERE scope = ? ORDER BY version DESC LIMIT 1', [scope])) ?? null;
}

/**
 * What the previous version published, as its verified snapshot's entries; or why it
 * cannot be read, in which case the new version is built with no delta (a delta computed
 * against a guess would desynchronise every terminal that applied it).
 */
function previousEntries(previous: VersionRow, where: { readonly dir: string; readonly publicKey: KeyObject }, scope: string): Iterable<PublishedEntry> | string {
  const file = join(where.dir, previous.snapshot_file);
  try {
    const list = verifySignedList(readFileSync(file), { trustedKeys: [where.publicKey], scope });
    if (list.header.version !== previous.version || list.header.count !== previous.entry_count) {
      return `${previous.snapshot_file} holds version ${list.header.version} with ${list.header.count} entries, not version ${previous.version} with ${previous.entry_count}`;
    }
    return {
      *[Symbol.iterator]() {
        for (const entry of list.entries()) yield [entry.ref, listStatuses.indexOf(entry.status) as StatusCode] as const;
      },
    };
  } catch (err) {
    return `${previous.snapshot_file}: ${(err as Error).message}`;
  }
}

type Finish = (header: Pick<ListHeaderInput, 'kind' | 'version' | 'baseVersion'>, builder: ListBodyBuilder) => Buffer;

/** Step 1: one read transaction, one merged pass, both files. */
function readAndBuild(db: RegistryDb, scope: string, where: { readonly dir: string; readonly publicKey: KeyObject }, finish: Finish): Promise<Built> {
  return db.readTransaction(async (tx): Promise<Built> => {
    const previous = await latestVersion(tx, scope);
    const version = (previous?.version ?? 0) + 1;
    const before = previous === null ? [] : previousEntries(previous, where, scope);
    const previousUnreadable = typeof before === 'string' ? before : null;
    const snapshot = new ListBodyBuilder();
    const delta = previous === null || previousUnreadable !== null ? null : new ListBodyBuilder();
    let added = 0;
    let changed = 0;
    let removed = 0;
    await walkScope(tx, scope, typeof before === 'string' ? [] : before, (ref, current, published) => {
      if (current !== null) snapshot.add({ ref, status: listStatuses[current] });
      if (current === published) return;
      if (published === null) added++;
      else if (current === null) removed++;
      else changed++;
      delta?.add({ ref, status: listStatuses[current ?? 3] });
    });
    if (previous === null && snapshot.count === 0) {
      throw new ListPublishError(
        'empty-scope',
        `no member has scope "${scope}" and it was never published: check the scope's spelling (an empty list would refuse everyone)`,
      );
    }
    return {
      previous,
      snapshot: finish({ kind: 'snapshot', version }, snapshot),
      delta: previous === null || delta === null ? null : finish({ kind: 'delta', version, baseVersion: previous.version }, delta),
      added,
      changed,
      removed,
      previousUnreadable,
    };
  });
}

interface DeltaRow {
  readonly version: number;
  readonly entry_count: number;
  readonly delta_file: string;
}

/** The recorded deltas of a scope up to `version`, newest first, as many as a manifest may offer. */
function recordedDeltas(db: RegistryDb, scope: string, version: number): Promise<DeltaRow[]> {
  return db.all<DeltaRow>(
    `SELECT version, entry_count, delta_file FROM list_versions
     WHERE scope = ? AND version <= ? AND delta_file IS NOT NULL ORDER BY version DESC LIMIT ?`,
    [scope, version, maxChainDeltas],
  );
}

/** The recorded deltas as candidates, their files read from disk only when the chain gets that far. */
function* deltaCandidates(rows: readonly DeltaRow[], dir: string, version: number, newest: Buffer | null): Generator<DeltaCandidate> {
  for (const row of rows) {
    const path = join(dir, row.delta_file);
    yield {
      version: row.version,
      baseVersion: row.version - 1,
      resultCount: row.entry_count,
      read: () => (row.version === version && newest !== null ? newest : existsSync(path) ? readFileSync(path) : null),
    };
  }
}
