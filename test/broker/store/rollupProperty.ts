import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { CentralStore, HistogramBucket } from '../../../broker/store/centralStore.js';
import { statsWindowsMs } from '../../../broker/store/sqliteEventReader.js';
import { bucketMs, bucketStart } from '../../../broker/store/time.js';
import { decisions, directions, type ScanEvent } from '../../../protocol/event.js';
import { CP_A, CP_B, scanEvent } from './scanEvents.js';

/**
 * The stats rollup (broker/store/sqliteHourlyCounts.ts, and its PostgreSQL twin) against a
 * brute-force count over the events themselves: random times clustered on hour boundaries
 * (where whole hours and partial edges meet), redeliveries inside and across batches, random
 * "now"s and ranges. Run on both stores (hourlyCounts.test.ts, postgresStore.test.ts).
 */
export const HOUR = 3_600_000;
export const base = Date.UTC(2025, 4, 1, 0);

/** A time near an hour boundary (±2 ms) or anywhere in its hour, over ~35 days. */
export const instant = fc
  .tuple(fc.integer({ min: 0, max: 35 * 24 }), fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: 0, max: HOUR - 1 })))
  .map(([hour, offset]) => base + hour * HOUR + offset);

export const eventSpec = fc.record({
  tsMs: instant,
  code: fc.constantFrom(CP_A, CP_B),
  decision: fc.constantFrom(...decisions),
  direction: fc.constantFrom(...directions),
});

type Windows = { lastHour: number; lastDay: number; lastWeek: number; lastMonth: number };

export function bruteStats(events: readonly ScanEvent[], code: string, nowMs: number) {
  const zero = (): Windows => ({ lastHour: 0, lastDay: 0, lastWeek: 0, lastMonth: 0 });
  const total = zero();
  const byDecision = Object.fromEntries(decisions.map((d) => [d, zero()])) as Record<(typeof decisions)[number], Windows>;
  for (const e of events) {
    const ts = Date.parse(e.ts);
    if (e.checkpointCode !== code || ts > nowMs) continue;
    for (const [window, length] of Object.entries(statsWindowsMs) as [keyof Windows, number][]) {
      if (ts > nowMs - length) {
        total[window]++;
        byDecision[e.decision][window]++;
      }
    }
  }
  return { ...total, byDecision };
}

/** The last hour and day of a brute-force count, as lastDayCounts answers them. */
function lastDayOf(code: string, stats: ReturnType<typeof bruteStats>) {
  const day = ({ lastHour, lastDay }: Windows) => ({ lastHour, lastDay });
  return { code, ...day(stats), byDecision: Object.fromEntries(Object.entries(stats.byDecision).map(([decision, windows]) => [decision, day(windows)])) };
}

export function bruteHistogram(events: readonly ScanEvent[], code: string, fromMs: number, toMs: number, bucket: HistogramBucket) {
  const bars: { startMs: number; count: number }[] = [];
  for (let start = bucketStart(fromMs, bucket); start < toMs; start += bucketMs[bucket]) {
    const end = start + bucketMs[bucket];
    const count = events.filter((e) => {
      const ts = Date.parse(e.ts);
      return e.checkpointCode === code && ts >= Math.max(start, fromMs) && ts < Math.min(end, toMs);
    }).length;
    bars.push({ startMs: start, count });
  }
  return bars;
}

/** Migrates `store` and registers the two checkpoints the property scans at. */
export async function withCheckpoints<S extends CentralStore>(store: S): Promise<S> {
  await store.migrate();
  await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
  await store.createCheckpoint({ code: CP_B, name: 'Gate B', direction: 'in', confirm: 'auto' });
  return store;
}

/** Batches of the events with some delivered twice: again in the same batch and in a later one. */
function deliveries(events: readonly ScanEvent[], repeats: readonly number[], batchSize: number): ScanEvent[][] {
  const sent = [...events];
  for (const [i, at] of repeats.entries()) if (events.length > 0) sent.splice(at % (sent.length + 1), 0, events[i % events.length]!);
  const batches: ScanEvent[][] = [];
  for (let i = 0; i < sent.length; i += batchSize) batches.push(sent.slice(i, i + batchSize));
  return batches;
}

/**
 * The property, for any CentralStore: `makeStore` returns a fresh store, not migrated;
 * fewer runs suit a store whose every call is a round trip to a server.
 */
export function itAgreesWithBruteForce(makeStore: () => Promise<CentralStore>, numRuns = 40): void {
  it('agree with a brute-force count over the events, redeliveries included (checkpointStats, lastDayCounts, checkpointHistogram)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventSpec, { maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(instant, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(instant, fc.integer({ min: 0, max: 40 * HOUR }), fc.constantFrom<HistogramBucket>('hour', 'day')), { minLength: 1, maxLength: 4 }),
        async (specs, repeats, batchSize, nows, ranges) => {
          const store = await withCheckpoints(await makeStore());
          try {
            const events = specs.map((s, i) => scanEvent({ terminalId: s.code === CP_A ? 't1' : 't3', checkpointCode: s.code, seq: i + 1, tsMs: s.tsMs, decision: s.decision, direction: s.direction }, false));
            let inserted = 0;
            for (const batch of deliveries(events, repeats, batchSize)) inserted += (await store.insertEvents(batch, base)).inserted;
            expect(inserted).toBe(events.length);
            for (const nowMs of nows) {
              for (const code of [CP_A, CP_B]) expect(await store.checkpointStats(code, nowMs)).toMatchObject(bruteStats(events, code, nowMs));
              expect(await store.lastDayCounts(nowMs)).toEqual([CP_A, CP_B].sort().map((code) => lastDayOf(code, bruteStats(events, code, nowMs))));
            }
            for (const [fromMs, lengthMs, bucket] of ranges) {
              expect(await store.checkpointHistogram(CP_A, fromMs, fromMs + lengthMs, bucket)).toEqual(bruteHistogram(events, CP_A, fromMs, fromMs + lengthMs, bucket));
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns, seed: 15 },
    );
  });
}
