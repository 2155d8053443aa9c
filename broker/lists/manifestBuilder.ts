import { defaultChunkBytes, describeFile, manifestFormat, type ListManifest, type ManifestFile } from '../../protocol/lists/manifest.js';

/**
 * The manifest of a newly published version (protocol/lists/manifest.ts): its snapshot,
 * and the most recent deltas ending at it. A terminal a few versions behind fetches a few
 * small deltas; one further behind takes the snapshot. So the chain is kept only while
 * it is cheaper than the snapshot — its total bytes stay below the snapshot's — and at most
 * `maxChainDeltas` long, which bounds the manifest and the files the central keeps.
 */

export const maxChainDeltas = 30;

/** A delta that may join the chain; `read` returns null when its file is gone (the chain stops there). */
export interface DeltaCandidate {
  readonly version: number;
  readonly baseVersion: number;
  /** Entries in the list once this delta is applied. */
  readonly resultCount: number;
  read(): Buffer | null;
}

export interface ManifestInput {
  readonly scope: string;
  readonly version: number;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly count: number;
  readonly snapshot: Buffer;
  /** Newest first, starting with the delta that ends at `version`; read lazily, in order, until the chain is full. */
  readonly deltas: Iterable<DeltaCandidate>;
  readonly chunkBytes?: number;
}

export function buildManifest(input: ManifestInput): ListManifest {
  const chunkBytes = input.chunkBytes ?? defaultChunkBytes;
  const chain: ManifestFile[] = [];
  let chainBytes = 0;
  let expectedVersion = input.version;
  for (const delta of input.deltas) {
    // One unbroken chain ending at the manifest version: a gap ends it.
    if (chain.length >= maxChainDeltas || delta.version !== expectedVersion) break;
    const bytes = delta.read();
    if (bytes === null || chainBytes + bytes.length >= input.snapshot.length) break;
    chain.push(describeFile(bytes, delta, chunkBytes));
    chainBytes += bytes.length;
    expectedVersion = delta.baseVersion;
  }
  return {
    format: manifestFormat,
    scope: input.scope,
    version: input.version,
    issuedAt: input.issuedAt,
    expiresAt: input.expiresAt,
    count: input.count,
    chunkBytes,
    snapshot: describeFile(input.snapshot, { version: input.version, resultCount: input.count }, chunkBytes),
    deltas: chain.reverse(),
  };
}
