import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tryExclusiveFileLock } from './fileLock.js';

/** The lock file inside `dataDir`; holds no data. */
export const lockFileName = 'central.lock';

/** Another central holds the folder. */
export class DataDirLockedError extends Error {
  readonly code = 'data-dir-locked';
  constructor(readonly dataDir: string) {
    super(`another central is running on ${dataDir} (dataDir is locked); stop it first, or give this one its own dataDir`);
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Safe to call twice. */
  release(): void;
}

/**
 * Holds `dataDir` for one central for as long as the process lives (broker/fileLock.ts:
 * released by the kernel when the process dies, so a SIGKILLed central blocks no restart).
 * Two centrals on one folder would both publish its lists and both write the store as its
 * only broker; one-shot commands (checkpoints create, members import…) share the store
 * through WAL by design, so only `qrgate central` takes this lock.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const folder = resolve(dataDir);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const release = tryExclusiveFileLock(join(folder, lockFileName));
  if (!release) throw new DataDirLockedError(folder);
  return { release };
}
