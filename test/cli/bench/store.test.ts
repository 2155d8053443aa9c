import { describe, expect, it } from 'vitest';
import { runStoreBench } from '../../../cli/bench/storeBench.js';
import { run } from '../../../cli/commands/benchStore.js';
import { attributeGaps } from '../../../cli/bench/store/gapCauses.js';
import { ingestAlongside } from '../../../cli/bench/store/ingestAlongside.js';
import { cliContext } from '../../helpers/cliContext.js';
import { withDeadline } from '../../helpers/waitFor.js';

describe('bench store', () => {
  it('times stats and log pages, then deletes the older month while inserting, and reports every figure', async () => {
    const lines: string[] = [];
    const result = await runStoreBench({ store: 'sqlite', events: 4000, checkpoints: 4, requests: 5, ingestRatePerSec: 200, log: (line) => lines.push(line) });
    // The fill spans 60 days ending when the bench starts; retention takes what is 30 days old when it runs: about half.
    expect(result.retentionEvents).toBeGreaterThan(1900);
    expect(result.retentionEvents).toBeLessThanOrEqual(2000);
    expect(result.ingestEvents).toBeGreaterThan(0);
    expect(Object.keys(result.logPageShapesP95Ms)).toEqual(['checkpoint+day', 'checkpoint+day+refused', 'checkpoint+week+out', 'duplicate+month']);
    for (const key of ['statsP95Ms', 'logPageP95Ms', 'insertStallMaxMs', 'baselineStallMaxMs', 'retentionLongestBatchMs', 'retentionBatchCpuP95Ms'] as const) {
      expect(result[key], key).toEqual(expect.any(Number));
    }
    expect(lines.some((line) => line.startsWith('retention:'))).toBe(true);
  }, 120_000);

  it('stops retention at --retention-seconds and says the pass was not whole', async () => {
    const result = await runStoreBench({ store: 'sqlite', events: 4000, checkpoints: 4, requests: 3, ingestRatePerSec: 200, retentionWindowMs: 1 });
    expect(result).toMatchObject({ retentionWholePass: false, retentionWindowMs: 1 });
    expect(result.retentionEvents).toBeGreaterThan(0);
    expect(result.retentionEvents).toBeLessThan(1900);
  }, 120_000);

  it('runs the insert loop alone for --baseline-seconds first, and reports its longest gaps', async () => {
    const cli = cliContext(['--events', '4000', '--checkpoints', '4', '--requests', '3', '--ingest-rate', '200', '--retention-seconds', '1', '--baseline-seconds', '2', '--json']);
    expect(await run(cli.ctx)).toBe(0);
    const result = JSON.parse(cli.out()) as { baselineMs: number; baselineStallMaxMs: number; baselineStallLongestMs: number[] };
    expect(result.baselineMs).toBe(2000);
    expect(result.baselineStallLongestMs[0]).toBe(result.baselineStallMaxMs);
    // 200 events a second for 2 s, not the default 3 s.
    const alone = Number(/inserts alone: (\d+) events/.exec(cli.err())?.[1]);
    expect(alone).toBeGreaterThanOrEqual(300);
    expect(alone).toBeLessThanOrEqual(480);
  }, 120_000);

  it('runs on PostgreSQL in a database of its own, and refuses an unknown store or a --url without postgres as usage errors', async () => {
    const postgres = cliContext(['--store', 'postgres', '--events', '2000', '--checkpoints', '2', '--requests', '3', '--ingest-rate', '100', '--json']);
    expect(await run(postgres.ctx)).toBe(0);
    expect(JSON.parse(postgres.out())).toMatchObject({ store: 'postgres', statsP95Ms: expect.any(Number), logPageP95Ms: expect.any(Number) });
    await expect(run(cliContext(['--store', 'mysql']).ctx)).rejects.toMatchObject({ code: 'usage', message: '--store must be one of sqlite, postgres' });
    await expect(run(cliContext(['--url', 'postgresql://x/y']).ctx)).rejects.toMatchObject({ code: 'usage' });
  }, 180_000);

  it('lets the measured work run even when every insert overruns its period (no loop on microtasks alone)', async () => {
    let inserts = 0;
    const slowInsert = async () => {
      inserts++;
      const until = performance.now() + 15;
      while (performance.now() < until); // a synchronous commit longer than the 10 ms period, as on a loaded machine
    };
    const { result, stalls } = await withDeadline(
      ingestAlongside({ ratePerSec: 1000, insert: slowInsert, during: () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 100)) }),
      20_000,
      'the work beside a slow insert loop',
    );
    expect(result).toBe('done');
    expect(stalls.commits).toBe(inserts);
    expect(stalls.events).toBe(inserts * 10);
    expect(stalls.maxGapMs).toBeGreaterThanOrEqual(15);
    expect(stalls.longestGaps[0]!.gapMs).toBeCloseTo(stalls.maxGapMs, 0);
    // Each slow insert blocks the loop itself for 15 ms: a 10 ms probe tick due inside it runs
    // at least 5 ms late, however the two line up.
    expect(stalls.eventLoopDelayMaxMs).toBeGreaterThanOrEqual(5);
    expect(stalls.longestGaps.map((gap) => gap.gapMs)).toEqual([...stalls.longestGaps.map((gap) => gap.gapMs)].sort((a, b) => b - a));
  });

  it('names what each long gap overlapped: whole months dropped, a batch of row deletes, or the pause between them', () => {
    const calls = [
      { startedAtMs: 100, endedAtMs: 900, events: 4_000_000, maxRows: 500 }, // dropped a month
      { startedAtMs: 1000, endedAtMs: 1020, events: 500, maxRows: 500 },
    ];
    const gaps = [
      { endedAtMs: 950, gapMs: 120 }, // 830–950: overlaps the drop's end
      { endedAtMs: 1030, gapMs: 40 }, // 990–1030: the row batch
      { endedAtMs: 1500, gapMs: 60 }, // 1440–1500: no call
    ];
    const origin = Date.UTC(2026, 11, 5, 9, 0, 0);
    expect(attributeGaps(gaps, calls, origin)).toEqual([
      { gapMs: 120, cause: 'whole months', endedAt: '2026-12-05T09:00:00.950Z' },
      { gapMs: 40, cause: 'row batch', endedAt: '2026-12-05T09:00:01.030Z' },
      { gapMs: 60, cause: 'between batches', endedAt: '2026-12-05T09:00:01.500Z' },
    ]);
  });
});
