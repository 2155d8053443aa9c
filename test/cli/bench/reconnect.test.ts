import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReconnectBench } from '../../../cli/bench/reconnect/reconnectBench.js';
import { silentLogger } from '../../fakes/captureLogger.js';

const entry = fileURLToPath(new URL('../../../bin/qrgate.js', import.meta.url));

describe('bench reconnect', () => {
  it('kills a central with its terminals logged in, restarts it, and reports when every one of them is back online', async () => {
    const lines: string[] = [];
    const result = await runReconnectBench({ terminals: 12, processes: 2, entry, logger: silentLogger(), log: (line) => lines.push(line) });
    expect(result).toMatchObject({ terminals: 12, processes: 2 });
    // Every figure measured: the bench waits for all twelve to be back before it answers.
    for (const key of ['provisionMs', 'coldStartMs', 'restartReadyMs', 'allLoggedInMs', 'allOnlineMs', 'centralPeakRssMb', 'centralCpuS'] as const) {
      expect(result[key], key).toEqual(expect.any(Number));
    }
    // A status is stored only after its terminal logged in.
    expect(result.allOnlineMs).toBeGreaterThanOrEqual(result.allLoggedInMs);
    expect(lines.some((line) => line.startsWith('restart:'))).toBe(true);
  }, 120_000);
});
