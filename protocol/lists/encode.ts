import { sign, type KeyObject } from 'node:crypto';
import { keyId } from '../keys.js';
import { ListEncodeError } from './errors.js';
import {
  entryBaseBytes,
  hasValidFrom,
  hasValidUntil,
  revokedBit,
  listHeaderSchema,
  listMagic,
  maxHeaderBytes,
  maxWireSeconds,
  prefixBytes,
  refBytes,
  trailerBytes,
  type ListEntry,
  type ListHeader,
  type ListHeaderInput,
  type ListStatus,
} from './format.js';

const statusCodes: Record<ListStatus, number> = { allow: 0, deny: 1, check: 2, remove: 3, revoked: 1 | revokedBit };
const chunkBytes = 1 << 20;
const maxEntryBytes = entryBaseBytes + 8;

function toWireSeconds(ms: number, round: (x: number) => number, entryNumber: number, field: string): number {
  if (!Number.isFinite(ms)) throw new ListEncodeError('invalid-entry', `entry ${entryNumber}: ${field} is not a time`);
  const seconds = round(ms / 1000);
  if (seconds < 0 || seconds > maxWireSeconds) {
    throw new ListEncodeError('invalid-entry', `entry ${entryNumber}: ${field} is outside 1970..2106`);
  }
  return seconds;
}

/**
 * Accumulates entries in binary form, so a 1,000,000-row input never exists as a million
 * objects. The header goes first in the file but holds the count, so the body is built
 * before it.
 */
export class ListBodyBuilder {
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer | null = null;
  private offset = 0;
  private finished = false;
  private entries = 0;
  private removes = 0;
  private revoked = 0;
  private bodyBytes = 0;

  get count(): number {
    return this.entries;
  }

  add(entry: ListEntry): void {
    const number = this.entries + 1;
    if (!Buffer.isBuffer(entry.ref) || entry.ref.length !== refBytes) {
      throw new ListEncodeError('invalid-entry', `entry ${number}: ref must be a ${refBytes}-byte Buffer`);
    }
    const status = statusCodes[entry.status];
    if (status === undefined) throw new ListEncodeError('invalid-entry', `entry ${number}: unknown status`);
    // A window never grows in transit: start rounds up, end (exclusive) rounds down.
    const from = entry.validFrom === undefined ? null : toWireSeconds(entry.validFrom, Math.ceil, number, 'validFrom');
    const until = entry.validUntil === undefined ? null : toWireSeconds(entry.validUntil, Math.floor, number, 'validUntil');
    if (entry.status === 'remove' && (from !== null || until !== null)) {
      throw new ListEncodeError('invalid-entry', `entry ${number}: a remove entry has no validity window`);
    }
    if (from !== null && until !== null && from >= until) {
      throw new ListEncodeError('invalid-entry', `entry ${number}: validFrom must be before validUntil (whole seconds)`);
    }

    if (this.finished) throw new Error('ListBodyBuilder: add() after finish()');
    if (this.chunk === null || this.offset + maxEntryBytes > this.chunk.length) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(chunkBytes);
    }
    const out = this.chunk;
    let at = this.offset;
    entry.ref.copy(out, at);
    at += refBytes;
    out[at++] = status | (from === null ? 0 : hasValidFrom) | (until === null ? 0 : hasValidUntil);
    if (from !== null) at = out.writeUInt32BE(from, at);
    if (until !== null) at = out.writeUInt32BE(until, at);
    this.bodyBytes += at - this.offset;
    this.offset = at;
    this.entries++;
    if (entry.status === 'remove') this.removes++;
    if (entry.status === 'revoked') this.revoked++;
  }

  /** The complete signed file. The builder can be finished once. */
  finish(input: ListHeaderInput, privateKey: KeyObject): Buffer {
    if (this.finished) throw new Error('ListBodyBuilder: finish() called twice');
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new ListEncodeError('invalid-key', 'lists are signed with an Ed25519 private key');
    }
    // The lowest format that holds the entries: see format.ts.
    const format = this.revoked > 0 ? 2 : 1;
    const parsed = listHeaderSchema.safeParse({ ...input, format, count: this.entries });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'header'}: ${issue.message}`);
      throw new ListEncodeError('invalid-header', `invalid list header: ${problems.join('; ')}`);
    }
    const header: ListHeader = parsed.data;
    if (header.kind === 'snapshot' && this.removes > 0) {
      throw new ListEncodeError('invalid-entry', `a snapshot cannot hold remove entries (${this.removes} given)`);
    }
    const headerJson = Buffer.from(JSON.stringify(header), 'utf8');
    if (headerJson.length > maxHeaderBytes) throw new ListEncodeError('invalid-header', 'list header is too long');
    this.flush();
    this.finished = true;

    const signedBytes = prefixBytes + headerJson.length + this.bodyBytes;
    const file = Buffer.allocUnsafe(signedBytes + trailerBytes);
    let at = listMagic.copy(file, 0);
    at = file.writeUInt32BE(headerJson.length, at);
    at += headerJson.copy(file, at);
    for (const chunk of this.chunks) at += chunk.copy(file, at);
    this.chunks.length = 0;
    at += Buffer.from(keyId(privateKey), 'hex').copy(file, at);
    sign(null, file.subarray(0, signedBytes), privateKey).copy(file, at);
    return file;
  }

  private flush(): void {
    if (this.chunk !== null && this.offset > 0) this.chunks.push(this.chunk.subarray(0, this.offset));
    this.chunk = null;
    this.offset = 0;
  }
}

/** Encodes and signs a list (DESIGN.md "Signed card list"). */
export function encodeSignedList(header: ListHeaderInput, entries: Iterable<ListEntry>, privateKey: KeyObject): Buffer {
  const builder = new ListBodyBuilder();
  for (const entry of entries) builder.add(entry);
  return builder.finish(header, privateKey);
}
