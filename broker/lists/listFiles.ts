import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as atomic from '../../protocol/atomicFile.js';
import type { StagedFile } from '../../protocol/atomicFile.js';
import { tryExclusiveFileLock } from '../../protocol/fileLock.js';
import { ListPublishError } from './errors.js';

/**
 * Where a scope's published lists live, `{dataDir}/lists/{scope}/`:
 *
 *   s7.qgl, d6-7.qgl   signed list files, named as in the manifest (protocol/lists/manifest.ts fileName)
 *   manifest.json      the signed manifest envelope: exactly the retained payload
 *
 * `qrgate lists publish` writes them; the central's distributor (distributor.ts) reads them.
 * They never change in place: a file appears whole under its name (temp file, fsync,
 * rename, folder fsync), so a reader in another process never sees half of one.
 */

export const manifestFileName = 'manifest.json';
const listFileSuffix = '.qgl';
const listFilePattern = /^(s[1-9][0-9]*|d[1-9][0-9]*-[1-9][0-9]*)\.qgl$/;
/** A temp file this old was left by a crashed publish, not by one running now. */
const staleTempMs = 60 * 60 * 1000;

export function listsRoot(dataDir: string): string {
  return join(dataDir, 'lists');
}

export function scopeDir(dataDir: string, scope: string): string {
  return join(listsRoot(dataDir), scope);
}

/** `s7` -> `s7.qgl`. */
export function listFileName(name: string): string {
  return `${name}${listFileSuffix}`;
}

export type { StagedFile } from '../../protocol/atomicFile.js';

function writeFailed(path: string, err: unknown): ListPublishError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ListPublishError('write-failed', `cannot write ${path}: ${code}`);
}

/** protocol/atomicFile's stageFile, failing as a ListPublishError that names the file. */
export function stageFile(path: string, bytes: Buffer): StagedFile {
  try {
    return atomic.stageFile(path, bytes);
  } catch (err) {
    throw writeFailed(path, err);
  }
}

export function commitStaged(files: readonly StagedFile[]): void {
  try {
    atomic.commitStaged(files);
  } catch (err) {
    throw writeFailed(files[0]?.path ?? '(nothing)', err);
  }
}

export const discardStaged = atomic.discardStaged;

export function writeFileAtomically(path: string, bytes: Buffer): void {
  try {
    atomic.writeFileAtomically(path, bytes);
  } catch (err) {
    throw writeFailed(path, err);
  }
}

/**
 * Deletes the list files of `dir` that `keep` (file names as in the manifest: `s7`, `d6-7`)
 * does not name, and temp files left by a crashed publish. Returns the names removed.
 * Anything else in the folder is not ours and stays.
 */
export function removeUnreferenced(dir: string, keep: ReadonlySet<string>, nowMs: number): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const isListFile = listFilePattern.test(entry) && !keep.has(entry.slice(0, -listFileSuffix.length));
    const isStaleTemp = atomic.tempFilePattern.test(entry) && nowMs - statSync(path).mtimeMs > staleTempMs;
    if (!isListFile && !isStaleTemp) continue;
    rmSync(path, { force: true });
    removed.push(entry);
  }
  return removed;
}

/**
 * Holds the scope's publish lock until the returned function is called. Two publishes of
 * one scope at once would delete each other's files and overwrite each other's manifest.
 * The OS drops the lock when the process dies (protocol/fileLock.ts), so a publish killed
 * halfway never leaves a stale lock for the operator to clear.
 */
export function lockScope(dataDir: string, scope: string): () => void {
  const root = listsRoot(dataDir);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  // Beside the scope folders, not in one: a refused publish (a misspelt scope) leaves no folder.
  const release = tryExclusiveFileLock(join(root, `.${scope}.publish.lock`));
  if (!release) {
    throw new ListPublishError('concurrent-publish', `another "lists publish" of scope "${scope}" is running: wait for it, then run this again if still needed`);
  }
  return release;
}
