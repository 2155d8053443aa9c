import type { KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ListError, verifySignedList, type VerifiedList } from '../../protocol/lists/index.js';
import { ListApplyError, type ApplyResult } from './applyResult.js';
import type { ListWriter } from './listWriter.js';
import { openVouchedList } from './vouchedList.js';

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
  /** A list that has expired by this time, ms, is refused (`expired`) and the installed one kept. */
  readonly notExpiredAtMs?: number;
}

/**
 * Checks and installs one list file. A file the list sync fetched comes with what its
 * verified manifest promised (`expected`): its hash vouches for it, and it is read a block at
 * a time (vouchedList.ts). Otherwise it is read whole and its own signature checked. Either
 * way the scope, rollback, version and count checks hold, a problem found while entries are
 * written rolls the transaction back, and every failure is a ListApplyError.
 */
export function applyListFile(writer: ListWriter, file: string, options: ApplyFileOptions): ApplyResult {
  // The apply's time starts here, before the hash or signature check: "verify and install".
  const startedMs = performance.now();
  const { expected } = options;
  let list: VerifiedList;
  try {
    list = expected
      ? // The manifest vouches for the file's hash: read it a block at a time (vouchedList.ts).
        openVouchedList(file, {
          sha256: expected.sha256,
          trustedKeys: options.trustedKeys,
          scopes: options.scopes,
          installedVersion: (scope) => writer.installedVersion(scope),
        })
      : verifySignedList(readListFile(file), {
          trustedKeys: options.trustedKeys,
          scope: options.scopes,
          installedVersion: (scope) => writer.installedVersion(scope),
        });
  } catch (err) {
    throw asApplyError(err);
  }
  const verifiedMs = performance.now();
  let installed: ApplyResult;
  try {
    installed = install(writer, list, options);
  } catch (err) {
    throw asApplyError(err);
  }
  return { ...installed, applyMs: performance.now() - startedMs, phases: { ...installed.phases, verifyMs: verifiedMs - startedMs } };
}

/**
 * A whole list file, for the signature check: only files without a manifest come this way
 * (`qrgate lists import`), so a fresh buffer each time, gone with the call.
 */
function readListFile(file: string): Buffer {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const read = readSync(fd, buffer, at, size - at, at);
      if (read === 0) break; // truncated while we read: the signature check refuses it
      at += read;
    }
    return buffer.subarray(0, at);
  } catch (err) {
    throw new ListApplyError('io', `cannot read list file ${file}: ${(err as Error).message}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** A checked list into the writer, held to what the manifest promised when there is one. */
function install(writer: ListWriter, list: VerifiedList, options: ApplyFileOptions): ApplyResult {
  const { expected } = options;
  if (expected && list.header.version !== expected.version) {
    throw new ListApplyError('malformed', `list file holds version ${list.header.version}, the manifest says ${expected.version}`);
  }
  if (options.notExpiredAtMs !== undefined && Date.parse(list.header.expiresAt) <= options.notExpiredAtMs) {
    throw new ListApplyError('expired', `list "${list.header.scope}" version ${list.header.version} expired at ${list.header.expiresAt}`);
  }
  return writer.apply(list, {
    ...(expected ? { expectedCount: expected.resultCount } : {}),
    ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
  });
}

export function asApplyError(err: unknown): ListApplyError {
  if (err instanceof ListApplyError) return err;
  if (err instanceof ListError) return new ListApplyError(err.code, err.message);
  return new ListApplyError('io', `cannot install the list: ${err instanceof Error ? err.message : String(err)}`);
}
