import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReconnectBench } from '../../../cli/bench/reconnect/reconnectBench.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';

const entry = fileURLToPath(new URL('../../../bin/qrgate.js', import.meta.url));

describe('bench reconnect', () => {
  const tempDir = useTempDir();

  it('kills a central with its terminals logged in, restarts it, and reports when every one of them is back online', async () => {
    const lines: string[] = [];
    const profiles = tempDir();
    const result = await runReconnectBench({ terminals: 12, processes: 2, entry, logger: silentLogger(), log: (line) => lines.push(line), centralCpuProfileDir: profiles });
    expect(result).toMatchObject({ terminals: 12, processes: 2 });
    // Every figure measured: the bench waits for all twelve to be back before it answers.
    for (const key of ['provisionMs', 'coldStartMs', 'restartReadyMs', 'allLoggedInMs', 'allOnlineMs', 'centralPeakRssMb', 'centralCpuS', 'centralLogLines'] as const) {
      expect(result[key], key).toEqual(expect.any(Number));
    }
    // A status is stored only after its terminal logged in.
    expect(result.allOnlineMs).toBeGreaterThanOrEqual(result.allLoggedInMs);
    expect(lines.some((line) => line.startsWith('restart:'))).toBe(true);
    // The restarted central's CPU profile, written when the bench stopped it (through bin/qrgate.js
    // tsx's module-loader thread writes one of its own too).
    expect(readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile')).length).toBeGreaterThan(0);
  }, 120_000);
});
