import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBulkBench } from '../../../cli/bench/bulkBench.js';
import { silentLogger } from '../../fakes/captureLogger.js';

const entry = fileURLToPath(new URL('../../../bin/qrgate.js', import.meta.url));

describe('bench bulk', () => {
  it('streams events into a live central through a members import and a first list publish, and reports what the terminals felt', async () => {
    const lines: string[] = [];
    const result = await runBulkBench({
      members: 3_000,
      eventsPerSec: 200,
      terminals: 4,
      batchSize: 20,
      baselineSeconds: 1,
      entry,
      logger: silentLogger(),
      log: (line) => lines.push(line),
    });
    // Acknowledged before and during the bulk work, none lost, refused or dropped.
    expect(result.baselineP50Ms).toBeGreaterThan(0);
    expect(result.bulkPublishes).toBeGreaterThan(0);
    expect(result.bulkP99Ms).toBeGreaterThanOrEqual(result.bulkP50Ms);
    expect(result).toMatchObject({ members: 3_000, commitsFailed: 0, connectionsDropped: 0, publishesFailed: 0 });
    // A PUBACK from our central means stored.
    expect(result.eventsStored).toBeGreaterThanOrEqual(result.eventsAcked);
    expect(result.eventsAcked).toBeGreaterThan(0);
    expect(lines.some((line) => line.startsWith('lists publish:'))).toBe(true);
  }, 180_000);
});
