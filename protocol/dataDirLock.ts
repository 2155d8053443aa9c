import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from './atomicFile.js';
import { tryExclusiveFileLock } from './fileLock.js';

/**
 * One long-running process per data folder, for the central (broker/dataDirLock.ts) and the
 * terminal (gateway/dataDirLock.ts). The lock is protocol/fileLock.ts's: the kernel drops
 * it when the holder dies, however it dies, so no stale lock is ever left to clear. Beside
 * it, the holder writes who it is; a refusal names that process, so the person reading it
 * knows what to stop. The note is only read while the lock is held by someone else, and
 * the holder writes it right after taking the lock, so it names the live holder (in the
 * moment between the two, a refusal says "another …" without a pid).
 */

/** Who holds a data folder: what a refusal names. */
export interface DataDirHolder {
  readonly pid: number;
  /** What the person started, e.g. `qrgate terminal`. */
  readonly command: string;
}

export interface DataDirLockKind {
  /** The lock file inside dataDir; holds no data. */
  readonly lockFileName: string;
  /** What holds it when the note cannot be read, e.g. `central`: "another central is running…". */
  readonly role: string;
  /** What the refused person should do, after the semicolon. */
  readonly advice: string;
}

/** The holder's note beside the lock file. */
export function holderFileName(lockFileName: string): string {
  return `${lockFileName}.holder`;
}

/** Someone else holds the folder. */
export class DataDirLockedError extends Error {
  readonly code = 'data-dir-locked';
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder | null,
    role: string,
    advice: string,
  ) {
    const who = holder ? `${holder.command} (pid ${holder.pid})` : `another ${role}`;
    super(`${who} is running on ${dataDir} (dataDir is locked); ${advice}`);
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Safe to call twice. */
  release(): void;
}

function readHolder(file: string): DataDirHolder | null {
  try {
    const note = JSON.parse(readFileSync(file, 'utf8')) as Partial<DataDirHolder>;
    return Number.isSafeInteger(note.pid) && typeof note.command === 'string' ? { pid: note.pid!, command: note.command } : null;
  } catch {
    return null;
  }
}

/** Holds `dataDir` (created if missing) until released or the process ends; throws DataDirLockedError at once if held. */
export function lockDataDir(dataDir: string, kind: DataDirLockKind, command: string): DataDirLock {
  const folder = resolve(dataDir);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const holderFile = join(folder, holderFileName(kind.lockFileName));
  const releaseLock = tryExclusiveFileLock(join(folder, kind.lockFileName));
  if (!releaseLock) throw new DataDirLockedError(folder, readHolder(holderFile), kind.role, kind.advice);
  try {
    // Whole or absent, so a refused process never reads half a note.
    writeFileAtomically(holderFile, `${JSON.stringify({ pid: process.pid, command } satisfies DataDirHolder)}\n`);
  } catch (err) {
    releaseLock();
    throw err;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Before the lock goes: the next holder's note must never be removed by this one.
      rmSync(holderFile, { force: true });
      releaseLock();
    },
  };
}
