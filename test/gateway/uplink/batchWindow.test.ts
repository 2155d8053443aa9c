import { afterEach, describe, expect, it, vi } from 'vitest';
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

  function setUp(batchSize: number, maxInFlight: number, options: { removeFails?: () => boolean; receiptTimeoutMs?: number } = {}) {
    const db = openTerminalDb(tempDir());
    const outbox = new Outbox(db, { terminalId: 'gate-1', checkpointCode: '10000000000008', bootId: crypto.randomUUID() }, new TerminalClock(db));
    const sent: Sent[] = [];
    const removeFailures: unknown[] = [];
    let acked = 0;
    const timeouts: number[] = [];
    const gaps: number[] = [];
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
      ...(options.receiptTimeoutMs === undefined ? {} : { receipts: { timeoutMs: options.receiptTimeoutMs, onResend: (why: string, events: number) => (why === 'gap' ? gaps : timeouts).push(events) } }),
    });
    return { db, outbox, sent, window, acked: () => acked, removeFailures, timeouts, gaps };
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

  describe('with receipts (central.receipts)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('holds a batch in the window past its PUBACK and removes its rows only on the receipt', () => {
      const { db, outbox, sent, window, acked } = setUp(10, 2, { receiptTimeoutMs: 30_000 });
      for (let i = 0; i < 35; i++) outbox.record(draft);
      window.pump();
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 11]);
      sent[0]!.done();
      sent[1]!.done();
      // The broker has both, the store maybe not: nothing leaves, nothing more goes out.
      expect(outbox.depth()).toBe(35);
      expect(sent).toHaveLength(2);
      expect(window.inFlightEvents).toBe(20);

      window.receipt(sent[0]!.seqs);
      expect(outbox.depth()).toBe(25);
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 11, 21]);
      expect(acked()).toBe(10);
      window.receipt(sent[1]!.seqs);
      window.receipt(sent[2]!.seqs); // before its PUBACK is fine too (our central sends it first)
      window.receipt(sent[3]!.seqs);
      expect(outbox.depth()).toBe(0);
      expect(acked()).toBe(35);
      expect(window.inFlightBatches).toBe(0);
      db.close();
    });

    it('resends at once when a later batch is receipted before an earlier one (the broker dropped it), and not again for the late receipts of the old copies', () => {
      const { db, outbox, sent, window, gaps, timeouts } = setUp(10, 3, { receiptTimeoutMs: 30_000 });
      for (let i = 0; i < 50; i++) outbox.record(draft);
      window.pump();
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 11, 21]);
      window.receipt(sent[1]!.seqs); // 11..20 stored, 1..10 not: Mosquitto dropped it
      expect(gaps).toEqual([20]);
      // Resent at once, with the window halved (3 -> 1): the broker's queue is full.
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 11, 21, 1]);
      expect(window.inFlightLimit).toBe(1);
      window.receipt(sent[2]!.seqs); // the old copy of 21..30, receipted late: no second resend
      expect(gaps).toEqual([20]);
      expect(outbox.depth()).toBe(30);
      window.receipt(sent[3]!.seqs); // the resent 1..10: recovery over, the window grows by one
      expect(window.inFlightLimit).toBe(2);
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 11, 21, 1, 31, 41]);
      window.receipt(sent[4]!.seqs);
      window.receipt(sent[5]!.seqs);
      expect(window.inFlightLimit).toBe(3); // a window's worth of receipts per batch, back to maxInFlight
      expect(outbox.depth()).toBe(0);
      expect(window.inFlightBatches).toBe(0);
      expect(gaps).toEqual([20]);
      expect(timeouts).toEqual([]);
      db.close();
    });

    it('takes a receipt naming rows already gone, or only part of a batch, without harm', () => {
      const { db, outbox, sent, window } = setUp(10, 1, { receiptTimeoutMs: 30_000 });
      for (let i = 0; i < 15; i++) outbox.record(draft);
      window.pump();
      window.receipt([1, 2, 3]);
      expect(outbox.depth()).toBe(12);
      expect(sent).toHaveLength(1); // seqs 4..10 still wait: the slot stays taken
      expect(window.inFlightEvents).toBe(7);
      window.receipt([1, 2, 3, 999]); // a redelivered batch's second receipt, and a seq never sent
      expect(outbox.depth()).toBe(12);
      window.receipt(sent[0]!.seqs);
      expect(outbox.depth()).toBe(5);
      expect(sent[1]!.seqs).toEqual([11, 12, 13, 14, 15]);
      db.close();
    });

    it('sends everything unreceipted again when the receipts stop coming, and a late receipt still counts', () => {
      vi.useFakeTimers();
      const { db, outbox, sent, window, timeouts } = setUp(5, 2, { receiptTimeoutMs: 10_000 });
      for (let i = 0; i < 12; i++) outbox.record(draft);
      window.pump();
      sent[0]!.done();
      sent[1]!.done();
      vi.advanceTimersByTime(6_000);
      window.receipt(sent[0]!.seqs); // progress re-arms the timeout
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 6, 11]);
      vi.advanceTimersByTime(9_999);
      expect(timeouts).toEqual([]);
      vi.advanceTimersByTime(1);
      // Lost past the broker (a full queue, a restart): what waited goes out again from the outbox.
      expect(timeouts).toEqual([7]);
      // Half the window: a loss past the broker is a full queue until shown otherwise.
      expect(window.inFlightLimit).toBe(1);
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 6, 11, 6]);
      expect(outbox.depth()).toBe(7);
      window.receipt(sent[1]!.seqs); // the first send's receipt after all
      expect(sent.map((s) => s.seqs[0])).toEqual([1, 6, 11, 6, 11]);
      expect(window.inFlightLimit).toBe(2);
      expect(outbox.depth()).toBe(2);
      expect(window.inFlightEvents).toBe(2);
      window.receipt(sent[4]!.seqs);
      expect(outbox.depth()).toBe(0);
      vi.advanceTimersByTime(60_000);
      expect(timeouts).toEqual([7]); // nothing waits, nothing times out
      window.close();
      db.close();
    });

    it('waits longer after each resend that brought no receipt, up to 4 times the timeout, and starts over on a receipt', () => {
      vi.useFakeTimers();
      const { db, outbox, sent, window, timeouts } = setUp(5, 1, { receiptTimeoutMs: 1000 });
      for (let i = 0; i < 10; i++) outbox.record(draft);
      window.pump();
      const overdueAt: number[] = [];
      for (let ms = 1; ms <= 12_000; ms++) {
        vi.advanceTimersByTime(1);
        if (timeouts.length > overdueAt.length) overdueAt.push(ms);
      }
      // 1 s, then 2 s, then 4 s, 4 s: a saturated pipeline is not flooded with copies.
      expect(overdueAt).toEqual([1000, 3000, 7000, 11_000]);
      window.receipt(sent.at(-1)!.seqs);
      const before = timeouts.length;
      vi.advanceTimersByTime(1000);
      expect(timeouts.length).toBe(before + 1); // back to the configured timeout
      window.close();
      db.close();
    });

    it('ignores receipts once closed and never throws into the message handler on a full disk', () => {
      let diskFull = false;
      const { db, outbox, sent, window, removeFailures } = setUp(5, 2, { receiptTimeoutMs: 30_000, removeFails: () => diskFull });
      for (let i = 0; i < 10; i++) outbox.record(draft);
      window.pump();
      diskFull = true;
      expect(() => window.receipt(sent[0]!.seqs)).not.toThrow();
      expect(removeFailures).toHaveLength(1);
      expect(outbox.depth()).toBe(10);
      diskFull = false;
      window.close();
      window.receipt(sent[1]!.seqs);
      expect(outbox.depth()).toBe(10); // a dead connection's window does nothing
      db.close();
    });
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
