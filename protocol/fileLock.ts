import Database from 'better-sqlite3';

/**
 * An exclusive lock on `file` (created if missing), held until the returned function is
 * called, or undefined at once when someone else holds it (busy timeout 0: refuse, never
 * wait). It is SQLite's own file lock, an open exclusive transaction, so POSIX fcntl on
 * Linux: the kernel drops it when the process dies, however it dies, and a killed holder
 * never leaves a stale lock for an operator to clear, which a pid file would. Like any
 * fcntl lock it means nothing across hosts sharing a network filesystem.
 */
export function tryExclusiveFileLock(file: string): (() => void) | undefined {
  const db = new Database(file, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return undefined;
    throw err;
  }
  // Closing the connection rolls the transaction back and drops the lock; twice is harmless.
  return () => {
    if (db.open) db.close();
  };
}
