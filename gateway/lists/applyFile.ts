import type { KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ListError, sha256Hex, verifySignedList } from '../../protocol/lists/index.js';
import { ListApplyError, type ApplyResult } from './applyResult.js';
import type { ListWriter } from './listWriter.js';

/** What the list manifest promised about a file (gateway/listSync). */
export interface ExpectedFile {
  readonly sha256: string;
  readonly version: number;
  /** Entries in the scope's list once the file is applied. */
  readonly resultCount: number;
}

export interface ApplyFileOptions {
  readonly trustedKeys: readonly KeyObject[];
  readonly scopes: readonly string[];
  readonly expected?: ExpectedFile;
  readonly nowMs?: number;
}

/**
 * Reads, checks and installs one signed list file: the hash the manifest promised, then the
 * signature, scope and rollback checks of verifySignedList, then the write. Nothing is
 * written unless every check passes. Every failure is a ListApplyError.
 */
export function applyListFile(writer: ListWriter, file: string, options: ApplyFileOptions, reader = new ListFileReader()): ApplyResult {
  return applyListBytes(writer, reader.read(file), options);
}

/**
 * Reads whole list files. One reader keeps one buffer and reads every file into it while
 * it is large enough: the apply worker holds one 33 MB buffer, not one per apply waiting
 * for the garbage collector. A file read into it is valid until the next read.
 */
export class ListFileReader {
  private buffer: Buffer | null = null;

  read(file: string): Buffer {
    let fd: number | null = null;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      if (!this.buffer || this.buffer.length < size) {
        this.buffer = null; // let the old one go before the new one is allocated
        this.buffer = Buffer.allocUnsafe(size);
      }
      let at = 0;
      while (at < size) {
        const read = readSync(fd, this.buffer, at, size - at, at);
        if (read === 0) break; // truncated while we read: the signature check refuses it
        at += read;
      }
      return this.buffer.subarray(0, at);
    } catch (err) {
      throw new ListApplyError('io', `cannot read list file ${file}: ${(err as Error).message}`);
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }
}

export function applyListBytes(writer: ListWriter, bytes: Buffer, options: ApplyFileOptions): ApplyResult {
  const { expected } = options;
  try {
    const sha256 = expected ? sha256Hex(bytes) : null;
    if (expected && sha256 !== expected.sha256) {
      throw new ListApplyError('hash-mismatch', `list file has SHA-256 ${sha256}, the manifest says ${expected.sha256}`);
    }
    const list = verifySignedList(bytes, {
      trustedKeys: options.trustedKeys,
      scope: options.scopes,
      installedVersion: (scope) => writer.installedVersion(scope),
    });
    if (expected && list.header.version !== expected.version) {
      throw new ListApplyError('malformed', `list file holds version ${list.header.version}, the manifest says ${expected.version}`);
    }
    return writer.apply(list, {
      ...(expected ? { expectedCount: expected.resultCount } : {}),
      ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
    });
  } catch (err) {
    throw asApplyError(err);
  }
}

export function asApplyError(err: unknown): ListApplyError {
  if (err instanceof ListApplyError) return err;
  if (err instanceof ListError) return new ListApplyError(err.code, err.message);
  return new ListApplyError('io', `cannot install the list: ${err instanceof Error ? err.message : String(err)}`);
}
