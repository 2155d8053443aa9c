/**
 * Gap bookkeeping for a terminal's sequence numbers (DESIGN.md "Scan event": the central
 * detects gaps in a terminal's sequence and reports them). Pure: a store reads the
 * terminal's previous maximum, asks for a plan for the sequence numbers it has just
 * stored, and applies it with its own statements. Only newly stored events count: a
 * redelivery was already counted when it first arrived, so it changes nothing.
 *
 * Terminals number events from 1 (gateway/outbox.ts), so a first event with seq 5 means
 * 1..4 are missing.
 */

/** Inclusive range of sequence numbers. */
export interface SeqRange {
  readonly fromSeq: number;
  readonly toSeq: number;
}

export interface SequencePlan {
  /** The terminal's highest sequence number once the batch is stored. */
  readonly maxSeq: number;
  /** New gaps above the previous maximum, ascending. */
  readonly opened: readonly SeqRange[];
  /**
   * Runs of sequence numbers at or below the previous maximum, ascending: late events
   * (or retransmissions under a new id). Each is cut out of whatever gaps it overlaps.
   */
  readonly late: readonly SeqRange[];
}

/**
 * `storedSeqs` may come in any order and repeat (a batch arrives out of order; a terminal
 * can reuse a number after its database was restored): sorting first makes the result
 * independent of arrival order within the batch.
 */
export function planSequence(previousMaxSeq: number, storedSeqs: Iterable<number>): SequencePlan {
  const sorted = [...new Set(storedSeqs)].sort((a, b) => a - b);
  const opened: SeqRange[] = [];
  const lateSeqs: number[] = [];
  let maxSeq = previousMaxSeq;
  for (const seq of sorted) {
    if (seq <= previousMaxSeq) {
      lateSeqs.push(seq);
      continue;
    }
    if (seq > maxSeq + 1) opened.push({ fromSeq: maxSeq + 1, toSeq: seq - 1 });
    maxSeq = seq;
  }
  return { maxSeq, opened, late: toRuns(lateSeqs) };
}

/** Ascending distinct numbers -> maximal runs of consecutive ones. */
export function toRuns(sortedDistinct: readonly number[]): SeqRange[] {
  const runs: SeqRange[] = [];
  let start: number | undefined;
  let end = 0;
  for (const seq of sortedDistinct) {
    if (start !== undefined && seq === end + 1) {
      end = seq;
      continue;
    }
    if (start !== undefined) runs.push({ fromSeq: start, toSeq: end });
    start = end = seq;
  }
  if (start !== undefined) runs.push({ fromSeq: start, toSeq: end });
  return runs;
}

/** What is left of `gap` once the events in `arrived` are stored: nothing, one piece or two. */
export function subtractRange(gap: SeqRange, arrived: SeqRange): SeqRange[] {
  if (arrived.toSeq < gap.fromSeq || arrived.fromSeq > gap.toSeq) return [gap];
  const left: SeqRange[] = [];
  if (gap.fromSeq < arrived.fromSeq) left.push({ fromSeq: gap.fromSeq, toSeq: arrived.fromSeq - 1 });
  if (arrived.toSeq < gap.toSeq) left.push({ fromSeq: arrived.toSeq + 1, toSeq: gap.toSeq });
  return left;
}

/** How many numbers of `a` are also in `b`. */
export function overlapSize(a: SeqRange, b: SeqRange): number {
  return Math.max(0, Math.min(a.toSeq, b.toSeq) - Math.max(a.fromSeq, b.fromSeq) + 1);
}

/** How many sequence numbers a set of inclusive ranges covers: the fleet's and the alarms' "N missing". */
export function missingSeqCount(gaps: readonly SeqRange[]): number {
  return gaps.reduce((sum, gap) => sum + gap.toSeq - gap.fromSeq + 1, 0);
}
