import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { keyId } from '../keys.js';
import { ListError } from './errors.js';
import { listScopeSchema } from './format.js';

/**
 * The list manifest (DESIGN.md "Signed card list", issue 4): what a terminal reads first,
 * retained on `qrgate/v1/lists/{scope}/manifest`. It names the current version and the
 * files a terminal may fetch to reach it: one snapshot, and the chain of deltas kept
 * since older versions. Every file travels in chunks on its own retained topics
 * (protocol/topics.ts listChunkTopic), each chunk checked against its hash here before a
 * byte is written, so a tampered chunk is refused alone and fetched again, and a transfer
 * resumes by re-hashing what is already on disk.
 *
 * The manifest is signed by the list authority like the files are, so a broker or a
 * publisher in the middle cannot point terminals at an old version (rollback), a
 * shortened chain, or another scope. The wire form is an envelope around the exact
 * manifest bytes that were signed, so no JSON canonicalisation is needed:
 *
 *   { "manifest": "<manifest JSON text>", "keyId": "<16 hex>", "signature": "<base64>" }
 *
 * The signature covers `manifestSignaturePrefix` + the manifest text, which a list file
 * (magic "QGL1") can never start with, so one signature cannot be replayed as the other.
 */

export const manifestFormat = 1;
export const manifestSignaturePrefix = Buffer.from('QGM1\n', 'ascii');
/** The largest envelope a terminal reads; a 1M-entry snapshot in 64 KiB chunks is ~40 KiB. */
export const maxManifestBytes = 512 * 1024;
/** Default chunk size: small enough to hash on a Pi's main thread in well under a millisecond. */
export const defaultChunkBytes = 64 * 1024;

const versionSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 as 64 lowercase hex digits');
/** A file name is one topic level: `s{version}` for a snapshot, `d{base}-{version}` for a delta. */
const fileNameSchema = z.string().regex(/^(s[1-9][0-9]*|d[1-9][0-9]*-[1-9][0-9]*)$/, 's{version} or d{base}-{version}');

export const manifestFileSchema = z.strictObject({
  name: fileNameSchema,
  /** Version the list is at once this file is applied. */
  version: versionSchema,
  /** Deltas only: the version this delta applies on top of. */
  baseVersion: versionSchema.optional(),
  bytes: z.number().int().min(1),
  sha256: sha256Schema,
  /** Entries in the list after applying this file: the count check after each step. */
  resultCount: z.number().int().min(0),
  /** One SHA-256 per chunk, in order; every chunk but the last is exactly chunkBytes long. */
  chunks: z.array(sha256Schema).min(1),
});

export type ManifestFile = z.infer<typeof manifestFileSchema>;

export const manifestSchema = z
  .strictObject({
    format: z.literal(manifestFormat),
    scope: listScopeSchema,
    version: versionSchema,
    issuedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    /** Entries in the list at `version`. */
    count: z.number().int().min(0),
    chunkBytes: z.number().int().min(1024).max(1024 * 1024),
    snapshot: manifestFileSchema,
    /** Oldest first; each delta's baseVersion is the previous one's version, the last ends at `version`. */
    deltas: z.array(manifestFileSchema),
  })
  .superRefine((m, ctx) => {
    const files = [m.snapshot, ...m.deltas];
    if (m.snapshot.baseVersion !== undefined || m.snapshot.name !== fileName(m.snapshot.version)) {
      ctx.addIssue({ code: 'custom', path: ['snapshot'], message: 'the snapshot must be named s{version} and have no baseVersion' });
    }
    if (m.snapshot.version !== m.version || m.snapshot.resultCount !== m.count) {
      ctx.addIssue({ code: 'custom', path: ['snapshot'], message: 'the snapshot must be of the manifest version and count' });
    }
    m.deltas.forEach((delta, i) => {
      if (delta.baseVersion === undefined || delta.name !== fileName(delta.version, delta.baseVersion)) {
        ctx.addIssue({ code: 'custom', path: ['deltas', i], message: 'a delta must be named d{base}-{version}' });
      }
      const previous = m.deltas[i - 1];
      if (previous !== undefined && previous.version !== delta.baseVersion) {
        ctx.addIssue({ code: 'custom', path: ['deltas', i], message: 'deltas must form one chain' });
      }
    });
    const last = m.deltas.at(-1);
    if (last !== undefined && (last.version !== m.version || last.resultCount !== m.count)) {
      ctx.addIssue({ code: 'custom', path: ['deltas'], message: 'the delta chain must end at the manifest version and count' });
    }
    for (const [i, file] of files.entries()) {
      const expected = Math.ceil(file.bytes / m.chunkBytes);
      if (file.chunks.length !== expected) {
        ctx.addIssue({ code: 'custom', path: i === 0 ? ['snapshot', 'chunks'] : ['deltas', i - 1, 'chunks'], message: `${file.bytes} bytes in ${m.chunkBytes}-byte chunks is ${expected} chunks` });
      }
    }
    if (Date.parse(m.expiresAt) <= Date.parse(m.issuedAt)) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be after issuedAt' });
    }
  });

export type ListManifest = z.infer<typeof manifestSchema>;

const envelopeSchema = z.strictObject({
  manifest: z.string().min(2),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().min(1),
});

/** `s{version}` or `d{base}-{version}`: a file's name in the manifest and in its chunk topics. */
export function fileName(version: number, baseVersion?: number): string {
  return baseVersion === undefined ? `s${version}` : `d${baseVersion}-${version}`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The manifest entry for a finished file: its size, hash and per-chunk hashes. */
export function describeFile(
  bytes: Buffer,
  file: { readonly version: number; readonly baseVersion?: number; readonly resultCount: number },
  chunkBytes: number = defaultChunkBytes,
): ManifestFile {
  const chunks: string[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(sha256Hex(bytes.subarray(at, at + chunkBytes)));
  return {
    name: fileName(file.version, file.baseVersion),
    version: file.version,
    ...(file.baseVersion === undefined ? {} : { baseVersion: file.baseVersion }),
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    resultCount: file.resultCount,
    chunks,
  };
}

/** Chunk `index` of a file: the slice a publisher puts on that chunk's topic. */
export function chunkOf(bytes: Buffer, index: number, chunkBytes: number): Buffer {
  return bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes);
}

/** Validates and signs a manifest; the result is the retained payload. */
export function signManifest(manifest: ListManifest, privateKey: KeyObject): Buffer {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    throw new Error(`invalid manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ')}`);
  }
  const text = JSON.stringify(parsed.data);
  const signature = sign(null, Buffer.concat([manifestSignaturePrefix, Buffer.from(text, 'utf8')]), privateKey);
  return Buffer.from(JSON.stringify({ manifest: text, keyId: keyId(privateKey), signature: signature.toString('base64') }), 'utf8');
}

export interface ManifestVerifyOptions {
  readonly trustedKeys: readonly KeyObject[];
  /** The scope the manifest arrived for (its topic): a manifest for any other scope is refused. */
  readonly scope: string;
  /** The installed version of that scope; an older manifest is a rollback. */
  readonly installedVersion: number | null;
  /**
   * The terminal's time, ms: a manifest already expired by then is refused and the list the
   * terminal has is kept (issue 6): fetching a list only to call it stale helps nobody.
   */
  readonly nowMs?: number;
}

/**
 * Checks a retained manifest payload: envelope, signature by a trusted key, then the
 * manifest itself, its scope and version. Throws ListError with the same codes a list
 * file gets, so a terminal logs both alike.
 */
export function verifyManifest(payload: Buffer, options: ManifestVerifyOptions): { manifest: ListManifest; keyId: string } {
  if (payload.length > maxManifestBytes) throw new ListError('malformed', `malformed manifest: ${payload.length} bytes is too long`);
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ListError('malformed', 'malformed manifest: not JSON');
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) throw new ListError('malformed', 'malformed manifest: not a signed manifest envelope');
  const { manifest: text, keyId: signerId, signature } = envelope.data;
  const signer = options.trustedKeys.find((key) => keyId(key) === signerId);
  if (!signer) throw new ListError('unknown-key', `manifest is signed by key ${signerId}, which this terminal does not trust`);
  // Node's base64 decoder skips what it cannot read: demand the one canonical spelling, so
  // no two different payloads carry the same signed manifest (found by fast-check).
  const signatureBytes = Buffer.from(signature, 'base64');
  if (signatureBytes.length !== 64 || signatureBytes.toString('base64') !== signature) {
    throw new ListError('malformed', 'malformed manifest: the signature is not 64 bytes in canonical base64');
  }
  const signed = Buffer.concat([manifestSignaturePrefix, Buffer.from(text, 'utf8')]);
  if (!verify(null, signed, signer, signatureBytes)) {
    throw new ListError('bad-signature', `manifest signature does not verify with key ${signerId}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ListError('malformed', 'malformed manifest: signed text is not JSON');
  }
  const parsed = manifestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ListError('malformed', `malformed manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ')}`);
  }
  const manifest = parsed.data;
  if (manifest.scope !== options.scope) {
    throw new ListError('wrong-scope', `manifest is for scope "${manifest.scope}", expected "${options.scope}"`);
  }
  if (options.installedVersion !== null && manifest.version < options.installedVersion) {
    throw new ListError('rollback', `manifest "${manifest.scope}" version ${manifest.version} is older than installed version ${options.installedVersion}`);
  }
  if (options.nowMs !== undefined && Date.parse(manifest.expiresAt) <= options.nowMs) {
    throw new ListError('expired', `manifest "${manifest.scope}" version ${manifest.version} expired at ${manifest.expiresAt}`);
  }
  return { manifest, keyId: signerId };
}

/**
 * The files to fetch, in order, to go from `installedVersion` to the manifest's version:
 * the delta chain when it starts at the installed version, otherwise the snapshot.
 * Empty when already there.
 */
export function planFetch(manifest: ListManifest, installedVersion: number | null): ManifestFile[] {
  if (installedVersion === manifest.version) return [];
  const start = manifest.deltas.findIndex((delta) => delta.baseVersion === installedVersion);
  if (installedVersion !== null && start >= 0) return manifest.deltas.slice(start);
  return [manifest.snapshot];
}
