import { setTimeout as sleep } from 'node:timers/promises';
import { LoopProbe } from '../bulk/loopProbe.js';
import { percentile, round } from '../stats.js';

/**
 * An insert loop at a steady rate beside some other work on the same event loop (bench
 * store: retention while ingesting). The central's store answers on its event loop, so
 * whatever that work holds it for, no commit can finish meanwhile.
 *
 * The stall is the longest time between two commits finishing, the loop's own cadence
 * included: what a terminal waiting for its PUBACK would feel. How far the loop fell behind
 * its schedule is reported too, but on a machine too loaded to keep the rate that grows
 * with the run's length whatever else runs, so it says more about the machine than the work.
 */

export interface IngestStalls {
  /** Events the loop stored. */
  readonly events: number;
  readonly commits: number;
  /** The longest time between two commits finishing, ms. */
  readonly maxGapMs: number;
  readonly p99GapMs: number;
  /** The most a commit finished behind its planned start, ms. */
  readonly maxBehindMs: number;
  /**
   * The longest the process's event loop was late meanwhile, ms: a gap about this long was
   * spent in this process (a garbage collection, a synchronous stretch), not waiting on the store.
   */
  readonly eventLoopDelayMaxMs: number;
  /** The longest gaps, longest first, each with when it ended (performance.now()): what ran meanwhile is the culprit. */
  readonly longestGaps: readonly Gap[];
}

export interface Gap {
  readonly endedAtMs: number;
  readonly gapMs: number;
}

/** The gaps kept with their times: enough to tell a one-off from a pattern. */
const longestGapsKept = 5;

export interface IngestAlongsideOptions<T> {
  readonly ratePerSec: number;
  /** Stores `count` events; resolves once they are committed. */
  readonly insert: (count: number) => Promise<unknown>;
  /** The work measured against: the loop runs until it settles. */
  readonly during: () => Promise<T>;
  /** Default 10 ms: a group commit every 10 ms, as the central's default commitDelayMs of 5 ms gives under load. */
  readonly periodMs?: number;
}

export async function ingestAlongside<T>(options: IngestAlongsideOptions<T>): Promise<{ result: T; stalls: IngestStalls }> {
  const periodMs = options.periodMs ?? 10;
  const probe = new LoopProbe();
  let finished = false;
  const gaps: Gap[] = [];
  let maxBehindMs = 0;
  let events = 0;
  let commits = 0;
  const loop = (async () => {
    let planned = performance.now();
    let lastDone = planned;
    let owed = 0;
    while (!finished) {
      // Always through the timers, even when behind: a store call's promise resolves in a
      // microtask, and a loop awaiting only those would starve every timer and socket (the
      // work measured against included). The central's ingestion is driven by sockets anyway.
      await sleep(Math.max(0, planned - performance.now()));
      owed += (options.ratePerSec * periodMs) / 1000;
      const count = Math.floor(owed);
      owed -= count;
      if (count > 0) {
        await options.insert(count);
        events += count;
      }
      const done = performance.now();
      commits++;
      gaps.push({ endedAtMs: done, gapMs: done - lastDone });
      maxBehindMs = Math.max(maxBehindMs, done - planned);
      lastDone = done;
      planned += periodMs;
    }
  })();
  let result: T;
  let loopMaxMs: number;
  try {
    result = await options.during();
  } finally {
    finished = true;
    await loop;
    loopMaxMs = probe.take().loopMaxMs;
    probe.stop();
  }
  const sorted = gaps.map((gap) => gap.gapMs).sort((a, b) => a - b);
  const longestGaps = gaps.sort((a, b) => b.gapMs - a.gapMs).slice(0, longestGapsKept);
  return {
    result,
    stalls: { events, commits, maxGapMs: round(sorted.at(-1) ?? 0, 1), p99GapMs: round(percentile(sorted, 99), 1), maxBehindMs: round(maxBehindMs, 1), eventLoopDelayMaxMs: loopMaxMs, longestGaps },
  };
}
