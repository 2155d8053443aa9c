import { describe, expect, it } from 'vitest';
import { TerminalClock } from '../../../gateway/clock.js';
import { Outbox } from '../../../gateway/outbox.js';
import { openTerminalDb } from '../../../gateway/terminalDb.js';
import { BatchWindow } from '../../../gateway/uplink/batchWindow.js';
import { eventBatchSchema } from '../../../protocol/messages.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { draft } from './rig.js';

interface Sent {
  readonly seqs: number[];
  readonly done: (err?: Error) => void;
}

describe('BatchWindow', () => {
  const tempDir = useTempDir();

  function setUp(batchSize: number, maxInFlight: number, options: { removeFails?: () => boolean } = {}) {
    const db = openTerminalDb(tempDir());
    const outbox = new Outbox(db, { terminalId: 'gate-1', checkpointCode: '10000000000008', bootId: crypto.randomUUID() }, new TerminalClock(db));
    const sent: Sent[] = [];
    const removeFailures: unknown[] = [];
    let acked = 0;
    const window = new BatchWindow({
      outbox: {
        pendingBatch: (limit, afterSeq) => outbox.pendingBatch(limit, afterSeq),
        remove: (seqs) => {
          if (options.removeFails?.()) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
          return outbox.remove(seqs);
        },
      },
      batchSize,
      maxInFlight,
      publish: (payload, done) => sent.push({ seqs: eventBatchSchema.parse(JSON.parse(payload)).events.map((e) => e.seq), done }),
      onAcked: (events) => (acked += events),
      onRemoveFailed: (err) => removeFailures.push(err),
    });
    return { db, outbox, sent, window, acked: () => acked, removeFailures };
  }

  it('keeps at most maxInFlight batches out and removes rows only when their batch is acknowledged', () => {
    const { db, outbox, sent, window, acked } = setUp(10, 2);
    for (let i = 0; i < 45; i++) outbox.record(draft);
    window.pump();
    window.pump();
    expect(sent.map((s) => s.seqs[0])).toEqual([1, 11]);
    expect(window.inFlightEvents).toBe(20);
    expect(outbox.depth()).toBe(45);

    sent[1]!.done(); // acknowledgements may come out of order
    expect(outbox.depth()).toBe(35);
    expect(outbox.pendingBatch(100).map((r) => r.seq).slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sent.map((s) => s.seqs[0])).toEqual([1, 11, 21]);
    sent[0]!.done();
    sent[2]!.done();
    sent[3]!.done();
    sent[4]!.done();
    expect(sent.map((s) => s.seqs.length)).toEqual([10, 10, 10, 10, 5]);
    expect(outbox.depth()).toBe(0);
    expect(acked()).toBe(45);
    db.close();
  });

  it('stops sending on an error and forgets everything once closed', () => {
    const { db, outbox, sent, window } = setUp(5, 3);
    for (let i = 0; i < 30; i++) outbox.record(draft);
    window.pump();
    sent[0]!.done(new Error('Connection closed'));
    expect(sent).toHaveLength(3);
    expect(outbox.depth()).toBe(30);
    window.close();
    sent[1]!.done();
    expect(outbox.depth()).toBe(30); // a dead connection's late acknowledgement counts for nothing
    expect(window.inFlightBatches).toBe(0);
    db.close();
  });

  it('sends a row that became final late, once nothing is in flight', () => {
    const { db, outbox, sent, window } = setUp(2, 1);
    const waiting = outbox.record(draft, { awaitingPassage: true });
    outbox.record(draft);
    outbox.record(draft);
    window.pump();
    expect(sent[0]!.seqs).toEqual([2, 3]);
    outbox.settlePassage(waiting.id, true);
    window.pump(); // window full: nothing more
    expect(sent).toHaveLength(1);
    sent[0]!.done();
    expect(sent[1]!.seqs).toEqual([1]);
    sent[1]!.done();
    expect(outbox.depth()).toBe(0);
    db.close();
  });

  it('stops and reports, never throws into the PUBACK handler, when acknowledged rows cannot be deleted', () => {
    // Found by test/chaos/diskFull.test.ts: SQLITE_FULL from the delete escaped mqtt.js's ack
    // handler as an uncaught exception and took the terminal down on every PUBACK.
    let diskFull = true;
    const { db, outbox, sent, window, acked, removeFailures } = setUp(5, 2, { removeFails: () => diskFull });
    for (let i = 0; i < 20; i++) outbox.record(draft);
    window.pump();
    expect(() => sent[0]!.done()).not.toThrow();
    expect(removeFailures).toHaveLength(1);
    expect(removeFailures[0]).toMatchObject({ code: 'SQLITE_FULL' });
    expect(outbox.depth()).toBe(20); // nothing lost: every row goes out again on the next connection
    expect(acked()).toBe(0);
    sent[1]!.done(new Error('Connection closed'));
    window.pump();
    expect(sent).toHaveLength(2); // stopped: no new batch on this connection

    diskFull = false; // space is back; the next connection's window sends and deletes
    window.close();
    const next = setUpAgain(outbox);
    next.window.pump();
    expect(next.sent[0]!.seqs).toEqual([1, 2, 3, 4, 5]);
    db.close();
  });

  /** A fresh window over the same outbox, as the next connection makes. */
  function setUpAgain(outbox: Outbox) {
    const sent: Sent[] = [];
    const window = new BatchWindow({
      outbox,
      batchSize: 5,
      maxInFlight: 2,
      publish: (payload, done) => sent.push({ seqs: eventBatchSchema.parse(JSON.parse(payload)).events.map((e) => e.seq), done }),
      onAcked: () => undefined,
      onRemoveFailed: () => undefined,
    });
    return { sent, window };
  }
});
