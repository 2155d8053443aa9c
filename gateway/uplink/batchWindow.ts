import type { Outbox } from '../outbox.js';
import { batchPayload } from './payloads.js';

export interface BatchWindowDeps {
  readonly outbox: Pick<Outbox, 'pendingBatch' | 'remove'>;
  readonly batchSize: number;
  readonly maxInFlight: number;
  /**
   * Publishes one `…/events` payload at QoS 1. `done` runs with no error on PUBACK, or
   * with an error when the client gives up on it (the connection is going away).
   */
  readonly publish: (payload: string, done: (err?: Error) => void) => void;
  /** After a batch's rows left the outbox. */
  readonly onAcked: (events: number) => void;
  /**
   * The outbox could not delete acknowledged rows (SQLITE_FULL on a full disk: a delete
   * needs WAL space too). The window has stopped; the rows stay and go out again on the
   * next connection, where the central's dedupe absorbs the copy.
   */
  readonly onRemoveFailed: (err: unknown) => void;
  /**
   * Receipts mode (`central.receipts`): rows leave on the central's receipt (`receipt()`),
   * and a batch holds its place in the window until then, PUBACK or not. Absent: on PUBACK.
   */
  readonly receipts?: {
    /**
     * No receipt for this long while batches wait for one: send them all again, ms. Doubles
     * after each resend that brought no receipt either (up to 4 times this), back on the next receipt.
     */
    readonly timeoutMs: number;
    /**
     * Told before a resend: `overdue` after the timeout, `gap` when a later batch was
     * receipted before an earlier one (see receipt()).
     */
    readonly onResend: (why: 'overdue' | 'gap', waitingEvents: number) => void;
  };
}

/** The receipt timeout grows to at most 2^2 = 4 times its setting. */
const maxOverdueDoublings = 2;

/**
 * The send window of one MQTT connection: at most `maxInFlight` batches published and not
 * yet acknowledged, read from the outbox in seq order, removed from it only on their
 * PUBACK (our central stores events before it acknowledges them: DESIGN.md "A PUBACK is
 * not a receipt"). A window lives and dies with its connection: whatever it has in flight
 * when the connection drops is still in SQLite and the next connection's window sends it
 * again (at-least-once; the central dedupes by event id).
 *
 * `cursor` is the last seq handed out in this window, so a full window never re-reads
 * what is in flight. A row that became final late (its passage sensor spoke after later
 * rows were sent) sits below the cursor; the cursor goes back to 0 whenever nothing is in
 * flight, which picks it up without ever sending an in-flight row twice.
 *
 * With receipts (issue 15 point 1), PUBACK only says the broker took the batch: behind
 * Mosquitto it may still drop it (a full queue, a restart). The batch stays in the window
 * until the central's receipt names its seqs, so the window bounds the events sent and not
 * yet stored, and the broker's queues with it. A receipt may name seqs of an earlier send
 * or of rows already gone: deleting them again is harmless. If the receipts stop coming
 * while batches wait (the broker dropped them, the worker died), after `timeoutMs` the
 * window forgets what is in flight and sends the outbox again from its start: the store
 * dedupes, the outbox never lets an unreceipted row go.
 *
 * A batch dropped by the broker is usually noticed sooner. A broker delivers one client's
 * messages to the worker in the order it took them, and the worker commits and receipts
 * them in that order, so a receipt for a later batch while an earlier one still waits means
 * the earlier one is gone (Mosquitto drops what exceeds a client's queue, 1,000 messages by
 * default): the window resends at once instead of waiting out the timeout, much as TCP
 * retransmits on duplicate ACKs. Receipts for the copies sent before that resend are still
 * on their way and arrive out of the new order, so gaps are not looked for again until the
 * first batch sent by the resend has its receipt.
 *
 * A drop means the broker's queue is full: every terminal behind it holding its whole
 * window there is what filled it (200 terminals x 4 batches overflow Mosquitto's default
 * 1,000). So a resend also halves this window's limit (down to one batch), and each batch
 * receipted grows it back by 1/limit, one batch per window's worth of receipts, up to
 * `maxInFlight`: additive increase, multiplicative decrease, as TCP does for the same reason,
 * so a fleet settles below what the broker holds instead of overflowing it again and again.
 */
export class BatchWindow {
  private cursor = 0;
  private nextId = 1;
  private readonly inFlight = new Map<number, readonly number[]>();
  private sending = true;
  private closed = false;
  /** Receipts mode: which in-flight batch each unreceipted seq belongs to. */
  private readonly batchOfSeq = new Map<number, number>();
  private receiptTimer: NodeJS.Timeout | null = null;
  /** Resends in a row with no receipt between them: a saturated pipeline is not hammered with copies. */
  private overdueStreak = 0;
  /** After a resend: the id of its first batch; no gap is looked for until that batch is receipted. */
  private recoveringFrom: number | null = null;
  /** Receipts mode: batches allowed in flight now, between 1 and maxInFlight (see the class comment). */
  private limit: number;

  constructor(private readonly deps: BatchWindowDeps) {
    this.limit = deps.maxInFlight;
  }

  /** Batches this window may have in flight now: maxInFlight, or less after drops (receipts mode). */
  get inFlightLimit(): number {
    return Math.floor(this.limit);
  }

  get inFlightBatches(): number {
    return this.inFlight.size;
  }

  get inFlightEvents(): number {
    let events = 0;
    for (const seqs of this.inFlight.values()) events += seqs.length;
    return events;
  }

  /** Fills the window from the outbox. Each call reads at most `maxInFlight` batches. */
  pump(): void {
    const { outbox, batchSize } = this.deps;
    while (this.sending && this.inFlight.size < this.inFlightLimit) {
      const rows = outbox.pendingBatch(batchSize, this.cursor);
      const last = rows.at(-1);
      if (!last) return;
      this.cursor = last.seq;
      const id = this.nextId++;
      const seqs = rows.map((row) => row.seq);
      this.inFlight.set(id, seqs);
      if (this.deps.receipts) {
        for (const seq of seqs) this.batchOfSeq.set(seq, id);
        this.receiptTimer ??= this.armReceiptTimer();
      }
      this.deps.publish(batchPayload(rows), (err) => this.settled(id, err));
    }
  }

  /**
   * Receipts mode: the central's store holds these seqs. Their rows leave the outbox, their
   * batches leave the window once every seq of theirs is receipted, and the window refills.
   */
  receipt(seqs: readonly number[]): void {
    if (this.closed || !this.deps.receipts) return;
    let freed = 0;
    let newestFreedId = 0;
    for (const seq of seqs) {
      const id = this.batchOfSeq.get(seq);
      if (id === undefined) continue;
      this.batchOfSeq.delete(seq);
      const remaining = this.inFlight.get(id)!.filter((s) => s !== seq);
      if (remaining.length > 0) this.inFlight.set(id, remaining);
      else this.inFlight.delete(id);
      freed++;
      newestFreedId = Math.max(newestFreedId, id);
    }
    if (!this.removeRows(seqs)) return;
    if (this.recoveringFrom !== null && !this.inFlight.has(this.recoveringFrom)) this.recoveringFrom = null;
    if (freed > 0 && this.recoveringFrom === null && [...this.inFlight.keys()].some((id) => id < newestFreedId)) {
      this.overdueStreak = 0;
      this.resend('gap');
      return;
    }
    // Only progress on this window's batches re-arms the timeout: a stream of stale receipts
    // for rows long gone must not postpone a resend forever.
    if (freed === 0) return;
    this.overdueStreak = 0;
    this.limit = Math.min(this.deps.maxInFlight, this.limit + freed / (this.deps.batchSize * Math.floor(this.limit)));
    this.clearReceiptTimer();
    if (this.inFlight.size > 0) this.receiptTimer = this.armReceiptTimer();
    else this.cursor = 0;
    this.deps.onAcked(freed);
    this.pump();
  }

  /** No new batches; acknowledgements still remove rows (a clean stop wastes nothing). */
  pause(): void {
    this.sending = false;
  }

  /** The connection is gone: forget everything in flight, ignore late callbacks. */
  close(): void {
    this.sending = false;
    this.closed = true;
    this.inFlight.clear();
    this.batchOfSeq.clear();
    this.clearReceiptTimer();
  }

  private settled(id: number, err: Error | undefined): void {
    if (this.closed) return;
    const seqs = this.inFlight.get(id);
    if (!seqs) return;
    if (err) {
      // mqtt.js reports an error only when it is giving up on the connection (and may do
      // so synchronously inside publish()): stop here rather than spin re-reading the
      // same rows. The next connection's window sends them.
      this.inFlight.delete(id);
      this.sending = false;
      return;
    }
    // With receipts a PUBACK is only the broker's word: the batch waits for its receipt.
    if (this.deps.receipts) return;
    this.inFlight.delete(id);
    if (!this.removeRows(seqs)) return;
    if (this.inFlight.size === 0) this.cursor = 0;
    this.deps.onAcked(seqs.length);
    this.pump();
  }

  private removeRows(seqs: readonly number[]): boolean {
    try {
      this.deps.outbox.remove(seqs);
      return true;
    } catch (err) {
      // This runs inside mqtt.js's PUBACK or message handler: a throw here was an uncaught
      // exception that took the terminal down on every PUBACK while the disk was full (found
      // by test/chaos/diskFull.test.ts). Stop instead; the connection's owner decides what next.
      this.sending = false;
      this.clearReceiptTimer();
      this.deps.onRemoveFailed(err);
      return false;
    }
  }

  private armReceiptTimer(): NodeJS.Timeout {
    const timeoutMs = this.deps.receipts!.timeoutMs * 2 ** Math.min(this.overdueStreak, maxOverdueDoublings);
    const timer = setTimeout(() => this.receiptsOverdue(), timeoutMs);
    timer.unref();
    return timer;
  }

  private clearReceiptTimer(): void {
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
  }

  /** No receipt for a whole timeout: what is in flight was lost somewhere past the broker. */
  private receiptsOverdue(): void {
    this.receiptTimer = null;
    if (this.closed || this.inFlight.size === 0) return;
    this.overdueStreak++;
    this.resend('overdue');
  }

  /** Forgets what is in flight and sends the unreceipted rows again, from the outbox's start. */
  private resend(why: 'overdue' | 'gap'): void {
    const waiting = this.inFlightEvents;
    this.inFlight.clear();
    this.batchOfSeq.clear();
    this.clearReceiptTimer();
    this.cursor = 0;
    this.recoveringFrom = this.nextId;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.deps.receipts!.onResend(why, waiting);
    this.pump();
  }
}
