import { lockDataDir, type DataDirLock, type DataDirLockKind } from '../protocol/dataDirLock.js';

export { DataDirLockedError, type DataDirLock } from '../protocol/dataDirLock.js';

/** The lock file inside the terminal's `dataDir`; holds no data. */
export const terminalLockFileName = 'terminal.lock';

function kind(advice: string): DataDirLockKind {
  return { lockFileName: terminalLockFileName, role: 'terminal', advice };
}

/**
 * Holds the terminal's `dataDir` while a terminal runs (enrolling or not). Two terminals on
 * one folder would share one outbox and one identity: each logging in to the central knocks
 * the other off the broker, and both drive the same GPIO lines.
 */
export function lockTerminalDataDir(dataDir: string, command: string): DataDirLock {
  return lockDataDir(dataDir, kind('stop it first (sudo systemctl stop qrgate-terminal), or give this one its own dataDir'), command);
}

/**
 * Held by `qrgate doctor` for its run: it opens the scanner and GPIO lines and logs in to
 * the central as the terminal, which would knock a running terminal off the broker.
 */
export function lockTerminalDataDirForDoctor(dataDir: string): DataDirLock {
  return lockDataDir(dataDir, kind('doctor needs the scanner, the GPIO lines and the central login to itself: stop the terminal first (sudo systemctl stop qrgate-terminal)'), 'qrgate doctor');
}
