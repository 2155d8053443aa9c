import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, round } from '../stats.js';

/**
 * An insert loop at a steady rate beside some other work on the same event loop (bench
 * store: retention while ingesting). The central's store answers on its event loop, so
 * whatever that work holds it for, every commit waits: each commit is given a planned start
 * (one every `periodMs`) and measured from then to its end. A commit that lags behind plan
 * is a stall an MQTT publish would have felt in its PUBACK.
 */

export interface IngestStalls {
  /** Events the loop stored. */
  readonly events: number;
  readonly commits: number;
  /** The most any commit finished behind its planned start, ms. */
  readonly maxMs: number;
  readonly p99Ms: number;
}

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
  let finished = false;
  const lateness: number[] = [];
  let events = 0;
  const loop = (async () => {
    let planned = performance.now();
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
      lateness.push(performance.now() - planned);
      planned += periodMs;
    }
  })();
  let result: T;
  try {
    result = await options.during();
  } finally {
    finished = true;
    await loop;
  }
  return { result, stalls: summary() };

  function summary(): IngestStalls {
    const sorted = [...lateness].sort((a, b) => a - b);
    return { events, commits: sorted.length, maxMs: round(sorted.at(-1) ?? 0, 1), p99Ms: round(percentile(sorted, 99), 1) };
  }
}
