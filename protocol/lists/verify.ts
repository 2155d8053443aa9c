import { verify, type KeyObject } from 'node:crypto';
import { keyId } from '../keys.js';
import { ListError } from './errors.js';
import {
  entryBaseBytes,
  hasValidFrom,
  hasValidUntil,
  keyIdBytes,
  listHeaderSchema,
  listMagic,
  listStatuses,
  maxHeaderBytes,
  prefixBytes,
  refBytes,
  reservedBitsOf,
  revokedBit,
  signatureBytes,
  statusMask,
  trailerBytes,
  type ListEntry,
  type ListHeader,
  type ListStatus,
} from './format.js';

export interface VerifyOptions {
  /** The authority public keys this terminal trusts: more than one during a key rotation. */
  readonly trustedKeys: readonly KeyObject[];
  /** The scope(s) the caller accepts; a list of any other scope is refused. */
  readonly scope: string | readonly string[];
  /**
   * The version installed for the list's scope; an older list is a rollback. Equal is
   * allowed (already installed). A function when several scopes are accepted: it gets the
   * verified list's scope.
   */
  readonly installedVersion?: number | null | ((scope: string) => number | null);
}

export interface VerifiedList {
  readonly header: ListHeader;
  /** Key id of the key that signed it. */
  readonly keyId: string;
  readonly byteLength: number;
  /**
   * Decodes entries one at a time from the verified bytes; call it as often as needed.
   * The caller must not modify the buffer it passed to verifySignedList afterwards.
   */
  entries(options?: EntryReadOptions): Generator<ListEntry>;
}

export interface EntryReadOptions {
  /**
   * Each ref a view into the file's bytes rather than a copy: for a consumer that copies it
   * at once (an SQLite bind). A million 32-byte copies are 32 MB of buffer garbage that the
   * garbage collector reclaims late, and a terminal's memory grows by as much while it
   * installs a list. A file read a block at a time reuses its buffers: a view stays valid
   * while the next entry is read, not beyond the block after next (gateway/lists/vouchedList.ts).
   */
  readonly views?: boolean;
}

// Key ids of trusted keys, computed once per KeyObject rather than per list.
const keyIds = new WeakMap<KeyObject, string>();

function idOf(key: KeyObject): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('verifySignedList: trusted keys must be Ed25519 public keys');
    }
    id = keyId(key);
    keyIds.set(key, id);
  }
  return id;
}

export function malformed(message: string): ListError {
  return new ListError('malformed', `malformed list: ${message}`);
}

/**
 * Checks a list file end to end and returns its header and a lazy entry reader. Order
 * matters: the signature is checked before the header JSON is parsed, so nothing an
 * attacker wrote is interpreted beyond its length fields.
 */
export function verifySignedList(bytes: Buffer, options: VerifyOptions): VerifiedList {
  const { bodyStart, bodyEnd } = listFrame(bytes, bytes.length);

  const signerId = bytes.toString('hex', bodyEnd, bodyEnd + keyIdBytes);
  const signer = trustedSigner(options.trustedKeys, signerId);
  const signature = bytes.subarray(bodyEnd + keyIdBytes, bodyEnd + keyIdBytes + signatureBytes);
  if (!verify(null, bytes.subarray(0, bodyEnd), signer, signature)) {
    throw new ListError('bad-signature', `list signature does not verify with key ${signerId}: the file was altered or damaged`);
  }

  const header = parseListHeader(bytes.subarray(prefixBytes, bodyStart));
  checkListAudience(header, options);
  checkEntries(bytes, bodyStart, bodyEnd, header);

  return {
    header,
    keyId: signerId,
    byteLength: bytes.length,
    entries: (read) => readEntries(bytes, bodyStart, header, read?.views ?? false),
  };
}

/** Where a list file's parts are, from its first `prefixBytes` bytes and its size. */
export interface ListFrame {
  readonly bodyStart: number;
  readonly bodyEnd: number;
}

export function listFrame(prefix: Buffer, size: number): ListFrame {
  if (size < prefixBytes + trailerBytes || prefix.length < prefixBytes) throw malformed(`${size} bytes is too short to be a list`);
  if (!prefix.subarray(0, listMagic.length).equals(listMagic)) throw malformed('not a qrgate list file (bad magic)');
  const headerBytes = prefix.readUInt32BE(listMagic.length);
  const bodyStart = prefixBytes + headerBytes;
  const bodyEnd = size - trailerBytes;
  if (headerBytes > maxHeaderBytes || bodyStart > bodyEnd) throw malformed('header length runs past the end of the file');
  return { bodyStart, bodyEnd };
}

/** The scope and rollback checks, on a header whose bytes are known to be authentic. */
export function checkListAudience(header: ListHeader, options: Pick<VerifyOptions, 'scope' | 'installedVersion'>): void {
  const scopes: readonly string[] = typeof options.scope === 'string' ? [options.scope] : options.scope;
  if (!scopes.includes(header.scope)) {
    throw new ListError('wrong-scope', `list is for scope "${header.scope}", expected ${scopes.map((s) => `"${s}"`).join(' or ')}`);
  }
  const installed =
    typeof options.installedVersion === 'function' ? options.installedVersion(header.scope) : (options.installedVersion ?? null);
  if (installed !== null && header.version < installed) {
    throw new ListError('rollback', `list "${header.scope}" version ${header.version} is older than installed version ${installed}`);
  }
}

/** The trusted key whose id is `signerId`; refuses an unknown one. */
export function trustedSigner(trustedKeys: readonly KeyObject[], signerId: string): KeyObject {
  const signer = trustedKeys.find((key) => idOf(key) === signerId);
  if (!signer) throw new ListError('unknown-key', `list is signed by key ${signerId}, which this terminal does not trust`);
  return signer;
}

export function parseListHeader(json: Buffer): ListHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch {
    throw malformed('header is not JSON');
  }
  const parsed = listHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'header'}: ${issue.message}`);
    throw malformed(`bad header: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * One pass over the flag bytes, no allocation: exactly `count` well-formed entries must fill
 * the body, so the lazy reader never meets a surprise halfway through an install.
 */
function checkEntries(bytes: Buffer, bodyStart: number, bodyEnd: number, header: ListHeader): void {
  let at = bodyStart;
  for (let n = 0; n < header.count; n++) {
    if (at + entryBaseBytes > bodyEnd) throw malformed(`header says ${header.count} entries, the file holds ${n}`);
    at += entryLength(bytes[at + refBytes]!, n, header);
  }
  if (at !== bodyEnd) throw leftoverOrShort(at, bodyEnd, header);
}

/** The end of the entries is not where the file says: `at` is past it, or short of it. */
export function leftoverOrShort(at: number, bodyEnd: number, header: ListHeader): ListError {
  return malformed(at > bodyEnd ? `entry ${header.count} runs past the entries` : `bytes left over after ${header.count} entries`);
}

/**
 * The length of entry `n` (0-based) from its flags byte, after the rules every entry must
 * keep; the one place those rules live.
 */
export function entryLength(flags: number, n: number, header: ListHeader): number {
  if ((flags & reservedBitsOf[header.format]) !== 0) throw malformed(`entry ${n + 1} has unknown flags for list format ${header.format}`);
  if (flags & revokedBit && (flags & statusMask) !== 1) throw malformed(`entry ${n + 1}: only a deny entry can be revoked`);
  const isRemove = (flags & statusMask) === 3;
  if (isRemove && header.kind === 'snapshot') throw malformed(`entry ${n + 1}: a snapshot cannot remove entries`);
  if (isRemove && (flags & (hasValidFrom | hasValidUntil)) !== 0) throw malformed(`entry ${n + 1}: a remove entry has a validity window`);
  return entryBaseBytes + (flags & hasValidFrom ? 4 : 0) + (flags & hasValidUntil ? 4 : 0);
}

/** Decodes the checked entry at `at`; a view into `bytes` when `views`, else a copy. */
export function decodeEntry(bytes: Buffer, at: number, views: boolean): ListEntry {
  // By default a copy: a caller keeping refs (in a Map, a cache) must not pin the whole file in memory.
  const view = bytes.subarray(at, at + refBytes);
  const flags = bytes[at + refBytes]!;
  const entry: { ref: Buffer; status: ListStatus; validFrom?: number; validUntil?: number } = {
    ref: views ? view : Buffer.from(view),
    status: flags & revokedBit ? 'revoked' : listStatuses[flags & statusMask]!,
  };
  let next = at + entryBaseBytes;
  if (flags & hasValidFrom) {
    entry.validFrom = bytes.readUInt32BE(next) * 1000;
    next += 4;
  }
  if (flags & hasValidUntil) entry.validUntil = bytes.readUInt32BE(next) * 1000;
  return entry;
}

function* readEntries(bytes: Buffer, bodyStart: number, header: ListHeader, views: boolean): Generator<ListEntry> {
  let at = bodyStart;
  for (let n = 0; n < header.count; n++) {
    const entry = decodeEntry(bytes, at, views);
    at += entryLength(bytes[at + refBytes]!, n, header);
    yield entry;
  }
}
