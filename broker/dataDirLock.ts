import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The lock file inside `dataDir`; never data, safe to delete while no central runs. */
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
 * Holds `dataDir` for one central for as long as the process lives. Two centrals on one
 * folder would both publish lists from it and both run the broker's side of the store,
 * while one-shot commands (checkpoints create, members import…) share the store through
 * WAL by design, so only `qrgate central` takes this lock.
 *
 * The lock is SQLite's own file lock (POSIX fcntl on Linux) on a file of its own: an
 * exclusive transaction left open, in exclusive locking mode. The kernel drops it when the
 * process dies, however it dies, so a SIGKILLed central never blocks the next start, which
 * a pid file would. busy_timeout 0: a second central is refused at once instead of waiting.
 * Like any fcntl lock it means nothing across hosts sharing a network filesystem.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const folder = resolve(dataDir);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  // On demand, like the SQLite store (broker/config.ts openCentralStore).
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(folder, lockFileName), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw new DataDirLockedError(folder);
    throw err;
  }
  return {
    release() {
      // Closing the connection ends the transaction and drops the file lock with it.
      if (db.open) db.close();
    },
  };
}
