import { createHash, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  checkListAudience,
  decodeEntry,
  entryLength,
  leftoverOrShort,
  listFrame,
  malformedList,
  parseListHeader,
  trustedSigner,
  type ListEntry,
  type ListHeader,
  type VerifiedList,
} from '../../protocol/lists/index.js';
import { entryBaseBytes, keyIdBytes, prefixBytes, refBytes } from '../../protocol/lists/format.js';
import { ListApplyError } from './applyResult.js';

/** Read size. */
const blockBytes = 1 << 20;
/** ref and flags, then validFrom and validUntil at most. */
const maxEntryBytes = entryBaseBytes + 8;

export interface VouchedListOptions {
  /** The SHA-256 a verified, signed manifest names for this file. */
  readonly sha256: string;
  readonly trustedKeys: readonly KeyObject[];
  readonly scopes: readonly string[];
  readonly installedVersion: (scope: string) => number | null;
}

/**
 * A downloaded list file, read a block at a time and never whole. The manifest that named
 * it was verified against a trusted key and its signature covers this file's SHA-256, so the
 * file is authentic once that hash matches. Its own Ed25519 signature adds nothing then, and
 * checking it would need the whole file in one buffer: 33 MB more in a terminal's memory for
 * every snapshot of a million entries (issue 4: RSS <= 150 MB). `qrgate lists import`, which
 * has no manifest, still checks the signature (verifySignedList).
 *
 * The hash is checked in a first pass, before a byte is parsed; the entries are decoded in a
 * second pass, as the writer takes them, with the same rules as verifySignedList.
 */
export function openVouchedList(file: string, options: VouchedListOptions): VerifiedList {
  const fd = openSync(file, 'r');
  let header: ListHeader;
  let keyId: string;
  let size: number;
  let bodyStart: number;
  let bodyEnd: number;
  try {
    size = fstatSync(fd).size;
    const sha256 = hashFile(fd, size);
    if (sha256 !== options.sha256) {
      throw new ListApplyError('hash-mismatch', `list file has SHA-256 ${sha256}, the manifest says ${options.sha256}`);
    }
    ({ bodyStart, bodyEnd } = listFrame(readAt(fd, 0, Math.min(prefixBytes, size)), size));
    header = parseListHeader(readAt(fd, prefixBytes, bodyStart - prefixBytes));
    keyId = readAt(fd, bodyEnd, keyIdBytes).toString('hex');
    trustedSigner(options.trustedKeys, keyId);
    checkListAudience(header, { scope: options.scopes, installedVersion: options.installedVersion });
  } finally {
    closeSync(fd);
  }
  const frame = { bodyStart, bodyEnd };
  return {
    header,
    keyId,
    byteLength: size,
    entries: (read) => streamEntries(file, frame, header, read?.views ?? false),
  };
}

function hashFile(fd: number, size: number): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(blockBytes, size));
  for (let at = 0; at < size; at += blockBytes) {
    const length = Math.min(blockBytes, size - at);
    readInto(fd, buffer, 0, length, at);
    hash.update(buffer.subarray(0, length));
  }
  return hash.digest('hex');
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  readInto(fd, buffer, 0, length, position);
  return buffer;
}

function readInto(fd: number, buffer: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, offset + done, length - done, position + done);
    if (read === 0) throw malformedList('the file got shorter while it was read');
    done += read;
  }
}

/**
 * The entries, read into two buffers in turn. A fresh buffer per block left each one to the
 * apply worker's garbage collector: its wrapper outlives a few scavenges while the block's
 * ~30,000 entries are written, so it reached the old generation, and the blocks' memory was
 * given back only at the next full collection. `bench lists` measured ~31 MB of such blocks
 * (and as much of the hash pass's) held at the end of a snapshot's apply. With two buffers a
 * ref read as a view stays valid until the block after the next is read: the writer holds
 * one entry back at most (listWriter.ts, the order check).
 */
function* streamEntries(file: string, frame: { bodyStart: number; bodyEnd: number }, header: ListHeader, views: boolean): Generator<ListEntry> {
  const { bodyStart, bodyEnd } = frame;
  const fd = openSync(file, 'r');
  try {
    // A small list (a delta of a few entries) needs no 1 MB buffers.
    const bufferBytes = maxEntryBytes + Math.min(blockBytes, bodyEnd - bodyStart);
    let spare = Buffer.allocUnsafe(bufferBytes);
    let current = Buffer.allocUnsafe(bufferBytes);
    let block = current.subarray(0, 0);
    let blockStart = bodyStart;
    let at = bodyStart;
    for (let n = 0; n < header.count; n++) {
      if (at + entryBaseBytes > bodyEnd) throw malformedList(`header says ${header.count} entries, the file holds ${n}`);
      const blockEnd = blockStart + block.length;
      if (at + maxEntryBytes > blockEnd && blockEnd < bodyEnd) {
        // The unread tail of this block (shorter than one entry), then the next block, in the other buffer.
        const tail = block.subarray(at - blockStart);
        const more = Math.min(blockBytes, bodyEnd - blockEnd);
        [current, spare] = [spare, current];
        const next = current.subarray(0, tail.length + more);
        tail.copy(next, 0);
        readInto(fd, next, tail.length, more, blockEnd);
        block = next;
        blockStart = at;
      }
      const offset = at - blockStart;
      const length = entryLength(block[offset + refBytes]!, n, header);
      if (at + length > bodyEnd) throw leftoverOrShort(at + length, bodyEnd, header);
      const entry = decodeEntry(block, offset, views);
      at += length;
      yield entry;
    }
    if (at !== bodyEnd) throw leftoverOrShort(at, bodyEnd, header);
  } finally {
    closeSync(fd);
  }
}
