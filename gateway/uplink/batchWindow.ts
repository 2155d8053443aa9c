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
}

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
 */
export class BatchWindow {
  private cursor = 0;
  private nextId = 1;
  private readonly inFlight = new Map<number, readonly number[]>();
  private sending = true;
  private closed = false;

  constructor(private readonly deps: BatchWindowDeps) {}

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
    const { outbox, batchSize, maxInFlight } = this.deps;
    while (this.sending && this.inFlight.size < maxInFlight) {
      const rows = outbox.pendingBatch(batchSize, this.cursor);
      const last = rows.at(-1);
      if (!last) return;
      this.cursor = last.seq;
      const id = this.nextId++;
      const seqs = rows.map((row) => row.seq);
      this.inFlight.set(id, seqs);
      this.deps.publish(batchPayload(rows), (err) => this.settled(id, err));
    }
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
  }

  private settled(id: number, err: Error | undefined): void {
    if (this.closed) return;
    const seqs = this.inFlight.get(id);
    if (!seqs) return;
    this.inFlight.delete(id);
    if (err) {
      // mqtt.js reports an error only when it is giving up on the connection (and may do
      // so synchronously inside publish()): stop here rather than spin re-reading the
      // same rows. The next connection's window sends them.
      this.sending = false;
      return;
    }
    try {
      this.deps.outbox.remove(seqs);
    } catch (err) {
      // This runs inside mqtt.js's PUBACK handler: a throw here was an uncaught exception
      // that took the terminal down on every PUBACK while the disk was full (found by
      // test/chaos/diskFull.test.ts). Stop instead; the connection's owner decides what next.
      this.sending = false;
      this.deps.onRemoveFailed(err);
      return;
    }
    if (this.inFlight.size === 0) this.cursor = 0;
    this.deps.onAcked(seqs.length);
    this.pump();
  }
}
