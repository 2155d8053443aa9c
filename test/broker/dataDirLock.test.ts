import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Central } from '../../broker/central.js';
import { loadCentralConfig } from '../../broker/config.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { DataDirLockedError, lockDataDir, lockFileName } from '../../broker/dataDirLock.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { cliContext } from '../helpers/cliContext.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { withDeadline } from '../helpers/waitFor.js';

const tempDir = useTempDir('qrgate-datadir-lock-');

function refusal(act: () => unknown): unknown {
  try {
    act();
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

describe('lockDataDir', () => {
  it('refuses a second holder at once, naming the folder and the holder, until the first releases', () => {
    const dataDir = join(tempDir(), 'data');
    const first = lockDataDir(dataDir);
    // A refusal, not a wait: the first holder is this very thread, so a lock that waited
    // for it would never return.
    const err = refusal(() => lockDataDir(dataDir));
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err).toMatchObject({
      code: 'data-dir-locked',
      dataDir,
      holder: { pid: process.pid, command: 'qrgate central' },
      message: `qrgate central (pid ${process.pid}) is running on ${dataDir} (dataDir is locked); stop it first, or give this one its own dataDir`,
    });
    first.release();
    first.release();
    lockDataDir(dataDir).release();
  });

  it('creates the folder and keeps its lock in a file of its own', () => {
    const dataDir = join(tempDir(), 'a', 'b');
    lockDataDir(dataDir).release();
    expect(existsSync(join(dataDir, lockFileName))).toBe(true);
  });
});

describe('Central on a dataDir another central holds', () => {
  it('refuses to start while the first runs, and starts once the first has stopped', async () => {
    const config = loadCentralConfig(writeLocalCentral(tempDir()));
    const first = new Central(config, { logger: captureLogger('info').logger });
    await first.start();
    const secondLog = captureLogger('info');
    const second = new Central(config, { logger: secondLog.logger });
    try {
      await expect(second.start()).rejects.toMatchObject({ code: 'data-dir-locked', message: expect.stringContaining(config.dataDir) as unknown });
      expect(secondLog.messages('central.ready')).toHaveLength(0);
    } finally {
      await first.stop();
    }
    const third = new Central(config, { logger: captureLogger('info').logger });
    await third.start();
    await third.stop();
  });
});

describe('qrgate central holding its dataDir', () => {
  const processes = useQrgateProcesses();

  it('refuses a second central while the first runs, and a SIGKILLed first leaves no lock behind', async () => {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const dataDir = loadCentralConfig(centralConfig).dataDir;
    const first = processes.start(['central', '--config', centralConfig]);
    await first.waitForLine((l) => l.msg === 'central.ready');

    // Ports are 0: without the lock this one would start, so its refusal is the lock's.
    const second = processes.start(['central', '--config', centralConfig]);
    expect(await withDeadline(second.exited, 30_000, 'the second central to exit')).toEqual({ code: 1, signal: null });
    expect(second.stderr.join('\n')).toContain(`qrgate central: qrgate central (pid ${first.pid}) is running on ${dataDir} (dataDir is locked)`);
    expect(second.linesWith('central.failed')[0]).toMatchObject({ err: { code: 'data-dir-locked' } });
    expect(second.linesWith('central.ready')).toHaveLength(0);

    // One-shot provisioning shares the store through WAL with the running central: not locked out.
    const created = cliContext(['--central-config', centralConfig, '--name', 'Cổng B', '--direction', 'in', '--confirm', 'auto']);
    expect(await checkpointsCreate(created.ctx)).toBe(0);

    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const third = processes.start(['central', '--config', centralConfig]);
    await third.waitForLine((l) => l.msg === 'central.ready');
  });
});
