import { existsSync, readFileSync } from 'node:fs';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { findMosquitto, startMosquitto } from '../../../cli/bench/e2e/mosquittoChild.js';
import { useTempDir } from '../../helpers/tempDir.js';

/** The parent pid of a process, from /proc/PID/stat (after the command name in parentheses). */
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

describe('bench e2e --mosquitto: a broker of its own', () => {
  const tempDir = useTempDir();

  it('finds the binary in sbin even when PATH does not name it', () => {
    expect(findMosquitto('/nowhere')).toMatch(/\/mosquitto$/);
  });

  it('starts Mosquitto as its own child on a free port, so the memory it reads is this run\'s, and stops it', async () => {
    const broker = await startMosquitto(tempDir(), () => {});
    try {
      expect(parentOf(broker.pid)).toBe(process.pid);
      expect(broker.url).not.toContain(':1883');
      const client = await connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 10_000 });
      await client.endAsync();
    } finally {
      await broker.stop();
    }
    // stop() resolves once the process has exited and been reaped.
    expect(existsSync(`/proc/${broker.pid}`)).toBe(false);
  });
});
