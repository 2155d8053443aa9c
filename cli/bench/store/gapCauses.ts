import { round } from '../stats.js';
import type { Gap } from './ingestAlongside.js';

/** One retention call as the bench timed it (performance.now() instants). */
export interface TimedRetentionCall {
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly events: number;
  readonly maxRows: number;
}

/**
 * What a gap between insert commits overlapped: a call that deleted more events than its row
 * limit worked on whole months (only PostgreSQL's store does: a chunk of a month's rollup
 * rows, or the DROP of its partition), any other call was a batch of row deletes, and a gap
 * overlapping none fell in a pause between calls (the store's own background work: a WAL
 * checkpoint, or the machine).
 */
export type GapCause = 'whole months' | 'row batch' | 'between batches';

export interface AttributedGap {
  readonly gapMs: number;
  readonly cause: GapCause;
  /** When the gap ended, wall clock (ISO 8601): to find it in the server's log or a trace. */
  readonly endedAt: string;
}

/** `timeOriginMs`: the epoch ms of performance.now()'s zero (performance.timeOrigin). */
export function attributeGaps(gaps: readonly Gap[], calls: readonly TimedRetentionCall[], timeOriginMs: number): AttributedGap[] {
  return gaps.map((gap) => {
    const startedAtMs = gap.endedAtMs - gap.gapMs;
    const overlapping = calls.filter((call) => call.startedAtMs < gap.endedAtMs && call.endedAtMs > startedAtMs);
    const cause: GapCause =
      overlapping.length === 0 ? 'between batches' : overlapping.some((call) => call.events > call.maxRows) ? 'whole months' : 'row batch';
    return { gapMs: round(gap.gapMs, 1), cause, endedAt: new Date(timeOriginMs + gap.endedAtMs).toISOString() };
  });
}
