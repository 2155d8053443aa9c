import { lockDataDir as lockFolder, type DataDirLock, type DataDirLockKind } from '../protocol/dataDirLock.js';

export { DataDirLockedError, type DataDirLock } from '../protocol/dataDirLock.js';

const central: DataDirLockKind = {
  lockFileName: 'central.lock',
  role: 'central',
  advice: 'stop it first, or give this one its own dataDir',
};

/** The lock file inside `dataDir`; holds no data. */
export const lockFileName = central.lockFileName;

/**
 * Holds `dataDir` for one central for as long as the process lives (protocol/dataDirLock.ts:
 * released by the kernel when the process dies, so a SIGKILLed central blocks no restart).
 * Two centrals on one folder would both publish its lists and both write the store as its
 * only broker; one-shot commands (checkpoints create, members import…) share the store
 * through WAL by design, so only `qrgate central` takes this lock.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  return lockFolder(dataDir, central, 'qrgate central');
}
