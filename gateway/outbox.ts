import type { ScanEvent } from '../protocol/event.js';
import { uuidv7 } from '../protocol/uuidv7.js';
import type { TerminalClock } from './clock.js';
import type { StorageHealth } from './storageHealth.js';
import type { TerminalDb } from './terminalDb.js';

export interface TerminalIdentity {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly bootId: string;
}

/** What a lane knows about a decision; the outbox adds identity, sequence and time. */
export type EventDraft = Omit<ScanEvent, 'id' | 'seq' | 'bootId' | 'terminalId' | 'checkpointCode' | 'ts' | 'clockTrusted'>;

/**
 * The disk, or the database's page limit, is full: the decision could not be recorded, so
 * it must not be carried out (a grant that is not in the outbox would be an event lost).
 */
export class StorageFullError extends Error {
  readonly code = 'storage-full';
  constructor(options: { cause: unknown }) {
    super('the terminal database cannot grow: disk full', options);
    this.name = 'StorageFullError';
  }
}

/** SQLite's own word for it (SQLITE_FULL), whatever the file system said underneath (ENOSPC, a quota). */
function isStorageFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

/** A stored event ready to leave the terminal. */
export interface PendingEvent {
  readonly seq: number;
  readonly event: ScanEvent;
}

/**
 * The durable outbox. `record` is one synchronous SQLite transaction that takes the next
 * sequence number and stores the event, so the row exists before any output is driven
 * (a process killed right after loses nothing it actuated) and a sequence number is
 * never handed out twice, across restarts included.
 */
export class Outbox {
  private readonly nextSeq;
  private readonly insert;
  private readonly settle;
  private readonly finalizeAll;
  private readonly countRows;
  private readonly anyRow;
  private readonly selectPending;
  private readonly deleteRow;
  private readonly recordTx;
  private readonly removeTx;
  private readonly readyListeners = new Set<() => void>();

  constructor(
    db: TerminalDb,
    private readonly identity: TerminalIdentity,
    private readonly clock: TerminalClock,
    /** Told of every write's outcome, for the storage alarm. */
    private readonly health?: StorageHealth,
  ) {
    this.nextSeq = db.prepare<[], { value: number }>("UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value");
    this.insert = db.prepare<[number, string, string, number]>('INSERT INTO outbox (seq, id, event, final) VALUES (?, ?, ?, ?)');
    this.settle = db.prepare<[string, string]>(
      "UPDATE outbox SET event = json_set(event, '$.passed', json(?)), final = 1 WHERE id = ? AND final = 0",
    );
    this.finalizeAll = db.prepare('UPDATE outbox SET final = 1 WHERE final = 0');
    this.countRows = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox');
    this.anyRow = db.prepare<[], number>('SELECT 1 FROM outbox LIMIT 1').pluck();
    // seq is the rowid: a range scan from `afterSeq`, whatever the backlog's size.
    this.selectPending = db.prepare<[number, number], { seq: number; event: string }>(
      'SELECT seq, event FROM outbox WHERE seq > ? AND final = 1 ORDER BY seq LIMIT ?',
    );
    this.deleteRow = db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?');
    this.recordTx = db.transaction((draft: EventDraft, final: boolean, id: string | undefined): ScanEvent => {
      const seq = this.nextSeq.get()!.value;
      const time = this.clock.now();
      this.clock.persistIfMoved(); // same transaction: the event's time survives a kill with it
      const event: ScanEvent = {
        id: id ?? uuidv7(time.ms),
        terminalId: this.identity.terminalId,
        checkpointCode: this.identity.checkpointCode,
        seq,
        bootId: this.identity.bootId,
        ts: new Date(time.ms).toISOString(),
        clockTrusted: time.trusted,
        ...draft,
      };
      this.insert.run(seq, event.id, JSON.stringify(event), final ? 1 : 0);
      return event;
    });
    this.removeTx = db.transaction((seqs: readonly number[]): number => {
      let removed = 0;
      for (const seq of seqs) removed += this.deleteRow.run(seq).changes;
      return removed;
    });
  }

  /**
   * Stores a decision. `awaitingPassage` keeps the row from leaving until the passage
   * sensor has spoken (or its window closed): see `settlePassage`. `id`: an id handed out
   * before the decision (a pending scan's, which the central already knows it by); a UUIDv7
   * of its own moment, so still time-ordered.
   */
  record(draft: EventDraft, options: { awaitingPassage?: boolean; id?: string } = {}): ScanEvent {
    const final = !options.awaitingPassage;
    const event = this.write(() => this.recordTx(draft, final, options.id));
    if (final) this.notifyReady();
    return event;
  }

  settlePassage(eventId: string, passed: boolean): void {
    if (this.settle.run(JSON.stringify(passed), eventId).changes > 0) this.notifyReady();
  }

  /**
   * The oldest final rows after `afterSeq`, in seq order. Rows still waiting for the
   * passage sensor (final = 0) are skipped: `passed` must be settled before an event leaves.
   */
  pendingBatch(limit: number, afterSeq = 0): PendingEvent[] {
    return this.selectPending.all(afterSeq, limit).map((row) => ({ seq: row.seq, event: JSON.parse(row.event) as ScanEvent }));
  }

  /** Deletes delivered rows in one transaction; returns how many were there. */
  remove(seqs: readonly number[]): number {
    return seqs.length === 0 ? 0 : this.write(() => this.removeTx(seqs));
  }

  private write<T>(transaction: () => T): T {
    let result: T;
    try {
      result = transaction();
    } catch (err) {
      this.health?.failed(err);
      // Named, so the lane can tell a full disk (expected in the field) from a fault.
      throw isStorageFull(err) ? new StorageFullError({ cause: err }) : err;
    }
    this.health?.wrote();
    return result;
  }

  isEmpty(): boolean {
    return this.anyRow.get() === undefined;
  }

  /**
   * `listener` runs (synchronously, after the commit) whenever a row becomes sendable: a
   * final record or a settled passage. It runs on the scan path, so it must only take
   * note and defer its work. Returns the unsubscribe function.
   */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  private notifyReady(): void {
    for (const listener of this.readyListeners) {
      try {
        listener();
      } catch (err) {
        // The event is stored and the next drain picks it up; a listener's failure must
        // never turn a recorded decision into an exception on the scan path (STYLE.md habit 7).
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'QRGATE_OUTBOX_LISTENER' });
      }
    }
  }

  /** At start-up: rows a previous run left waiting for a sensor go out with `passed` unknown. */
  finalizeAbandoned(): number {
    return this.finalizeAll.run().changes;
  }

  depth(): number {
    return this.countRows.get()!.n;
  }
}
