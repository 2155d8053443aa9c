import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, holderFileName, lockDataDir, type DataDirLockKind } from '../../protocol/dataDirLock.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-protocol-lock-');
const kind: DataDirLockKind = { lockFileName: 'thing.lock', role: 'thing', advice: 'stop it first' };

function refusal(act: () => unknown): DataDirLockedError {
  try {
    act();
  } catch (err) {
    if (err instanceof DataDirLockedError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('lockDataDir (the lock the central and the terminal share)', () => {
  it("names the holder's command and pid; its note goes with the lock", () => {
    const dataDir = join(tempDir(), 'data');
    const held = lockDataDir(dataDir, kind, 'qrgate thing');
    const err = refusal(() => lockDataDir(dataDir, kind, 'qrgate other'));
    expect(err.holder).toEqual({ pid: process.pid, command: 'qrgate thing' });
    expect(err.message).toBe(`qrgate thing (pid ${process.pid}) is running on ${dataDir} (dataDir is locked); stop it first`);
    held.release();
    expect(existsSync(join(dataDir, holderFileName(kind.lockFileName)))).toBe(false);
    lockDataDir(dataDir, kind, 'qrgate other').release();
  });

  it('without a readable note still refuses, naming the role instead of a pid', () => {
    const dataDir = join(tempDir(), 'data');
    const held = lockDataDir(dataDir, kind, 'qrgate thing');
    rmSync(join(dataDir, holderFileName(kind.lockFileName)));
    const err = refusal(() => lockDataDir(dataDir, kind, 'qrgate other'));
    expect(err).toMatchObject({ code: 'data-dir-locked', holder: null, message: `another thing is running on ${dataDir} (dataDir is locked); stop it first` });
    held.release();
  });
});
