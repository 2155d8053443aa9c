import type { ScanEvent } from '../protocol/event.js';
import { uuidv7 } from '../protocol/uuidv7.js';
import type { TerminalClock } from './clock.js';
import type { TerminalDb } from './terminalDb.js';

export interface TerminalIdentity {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly bootId: string;
}

/** What a lane knows about a decision; the outbox adds identity, sequence and time. */
export type EventDraft = Omit<ScanEvent, 'id' | 'seq' | 'bootId' | 'terminalId' | 'checkpointCode' | 'ts' | 'clockTrusted'>;

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
  private readonly recordTx;

  constructor(
    db: TerminalDb,
    private readonly identity: TerminalIdentity,
    private readonly clock: TerminalClock,
  ) {
    this.nextSeq = db.prepare<[], { value: number }>("UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value");
    this.insert = db.prepare<[number, string, string, number]>('INSERT INTO outbox (seq, id, event, final) VALUES (?, ?, ?, ?)');
    this.settle = db.prepare<[string, string]>(
      "UPDATE outbox SET event = json_set(event, '$.passed', json(?)), final = 1 WHERE id = ? AND final = 0",
    );
    this.finalizeAll = db.prepare('UPDATE outbox SET final = 1 WHERE final = 0');
    this.countRows = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox');
    this.recordTx = db.transaction((draft: EventDraft, final: boolean): ScanEvent => {
      const seq = this.nextSeq.get()!.value;
      const time = this.clock.now();
      const event: ScanEvent = {
        id: uuidv7(time.ms),
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
  }

  /**
   * Stores a decision. `awaitingPassage` keeps the row from leaving until the passage
   * sensor has spoken (or its window closed): see `settlePassage`.
   */
  record(draft: EventDraft, options: { awaitingPassage?: boolean } = {}): ScanEvent {
    return this.recordTx(draft, !options.awaitingPassage);
  }

  settlePassage(eventId: string, passed: boolean): void {
    this.settle.run(JSON.stringify(passed), eventId);
  }

  /** At start-up: rows a previous run left waiting for a sensor go out with `passed` unknown. */
  finalizeAbandoned(): number {
    return this.finalizeAll.run().changes;
  }

  depth(): number {
    return this.countRows.get()!.n;
  }
}
