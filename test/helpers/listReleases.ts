import { randomBytes, type KeyObject } from 'node:crypto';
import {
  chunkOf,
  describeFile,
  encodeSignedList,
  signManifest,
  type ListEntry,
  type ListManifest,
  type ManifestFile,
} from '../../protocol/lists/index.js';
import { listChunkTopic, listManifestTopic } from '../../protocol/topics.js';

/** A list state: ref (hex) -> status. */
export type ListState = ReadonlyMap<string, 'allow' | 'deny' | 'check'>;

export interface Release {
  readonly manifest: ListManifest;
  /** Retained messages a publisher would put on the broker: chunks first, then the manifest. */
  readonly retained: ReadonlyMap<string, Buffer>;
  readonly files: ReadonlyMap<string, Buffer>;
}

export function randomState(count: number, status: 'allow' | 'deny' | 'check' = 'allow'): Map<string, 'allow' | 'deny' | 'check'> {
  const state = new Map<string, 'allow' | 'deny' | 'check'>();
  while (state.size < count) state.set(randomBytes(32).toString('hex'), status);
  return state;
}

const day = 86_400_000;

function header(scope: string, version: number, baseVersion?: number) {
  const issuedAtMs = Date.now();
  return {
    kind: baseVersion === undefined ? ('snapshot' as const) : ('delta' as const),
    scope,
    version,
    ...(baseVersion === undefined ? {} : { baseVersion }),
    issuedAt: new Date(issuedAtMs).toISOString(),
    expiresAt: new Date(issuedAtMs + 7 * day).toISOString(),
  };
}

function sortedEntries(state: ListState): ListEntry[] {
  return [...state.keys()].sort().map((ref) => ({ ref: Buffer.from(ref, 'hex'), status: state.get(ref)! }));
}

function diff(from: ListState, to: ListState): ListEntry[] {
  const entries: ListEntry[] = [];
  for (const [ref, status] of to) if (from.get(ref) !== status) entries.push({ ref: Buffer.from(ref, 'hex'), status });
  for (const ref of from.keys()) if (!to.has(ref)) entries.push({ ref: Buffer.from(ref, 'hex'), status: 'remove' });
  return entries;
}

/**
 * Versions 1..states.length of one scope, as the central would publish them: a snapshot of
 * the last version and the chain of deltas between consecutive versions (from `firstDelta`
 * on), signed by `key`. For tests of the terminal side without a central.
 */
export function buildRelease(
  key: KeyObject,
  scope: string,
  states: readonly ListState[],
  options: { chunkBytes?: number; firstDeltaBase?: number } = {},
): Release {
  const chunkBytes = options.chunkBytes ?? 1024;
  const version = states.length;
  const files = new Map<string, Buffer>();
  const snapshotBytes = encodeSignedList(header(scope, version), sortedEntries(states[version - 1]!), key);
  const snapshot = describeFile(snapshotBytes, { version, resultCount: states[version - 1]!.size }, chunkBytes);
  files.set(snapshot.name, snapshotBytes);
  const deltas: ManifestFile[] = [];
  for (let base = options.firstDeltaBase ?? 1; base < version; base++) {
    const bytes = encodeSignedList(header(scope, base + 1, base), diff(states[base - 1]!, states[base]!), key);
    const described = describeFile(bytes, { version: base + 1, baseVersion: base, resultCount: states[base]!.size }, chunkBytes);
    files.set(described.name, bytes);
    deltas.push(described);
  }
  const manifest: ListManifest = {
    format: 1,
    scope,
    version,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 7 * day).toISOString(),
    count: states[version - 1]!.size,
    chunkBytes,
    snapshot,
    deltas,
  };
  const retained = new Map<string, Buffer>();
  for (const file of [snapshot, ...deltas]) {
    const bytes = files.get(file.name)!;
    file.chunks.forEach((_, index) => retained.set(listChunkTopic(scope, file.name, index), chunkOf(bytes, index, chunkBytes)));
  }
  retained.set(listManifestTopic(scope), signManifest(manifest, key));
  return { manifest, retained, files };
}
