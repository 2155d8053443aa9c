import { describe, expect, it, vi } from 'vitest';
import { TerminalClock } from '../../../gateway/clock.js';
import { Outbox } from '../../../gateway/outbox.js';
import { openTerminalDb } from '../../../gateway/terminalDb.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { draft } from './rig.js';

describe('Outbox: what the uplink reads', () => {
  const tempDir = useTempDir();

  function open() {
    const db = openTerminalDb(tempDir());
    const outbox = new Outbox(db, { terminalId: 'gate-1', checkpointCode: '10000000000008', bootId: crypto.randomUUID() }, new TerminalClock(db));
    return { db, outbox };
  }

  it('gives the oldest final rows in seq order, after a cursor, never one still awaiting passage', () => {
    const { db, outbox } = open();
    outbox.record(draft);
    const waiting = outbox.record(draft, { awaitingPassage: true });
    for (let i = 0; i < 5; i++) outbox.record(draft);
    expect(outbox.pendingBatch(3).map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(outbox.pendingBatch(100, 4).map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(outbox.pendingBatch(1)[0]!.event).toMatchObject({ seq: 1, terminalId: 'gate-1', decision: 'granted' });
    outbox.settlePassage(waiting.id, false);
    expect(outbox.pendingBatch(2).map((r) => r.seq)).toEqual([1, 2]);
    expect(outbox.pendingBatch(1, 1)[0]!.event.passed).toBe(false);
    db.close();
  });

  it('removes delivered rows in one transaction and tells whether it is empty', () => {
    const { db, outbox } = open();
    for (let i = 0; i < 4; i++) outbox.record(draft);
    expect(outbox.isEmpty()).toBe(false);
    expect(outbox.remove([1, 2, 99])).toBe(2);
    expect(outbox.pendingBatch(10).map((r) => r.seq)).toEqual([3, 4]);
    expect(outbox.remove([])).toBe(0);
    outbox.remove([3, 4]);
    expect(outbox.isEmpty()).toBe(true);
    expect(outbox.depth()).toBe(0);
    db.close();
  });

  it('notifies when a row becomes sendable, and a failing listener never reaches the scan path', () => {
    const { db, outbox } = open();
    const ready = vi.fn();
    const unsubscribe = outbox.onReady(ready);
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    outbox.onReady(() => {
      throw new Error('listener bug');
    });
    outbox.record(draft);
    expect(ready).toHaveBeenCalledTimes(1);
    const waiting = outbox.record(draft, { awaitingPassage: true });
    expect(ready).toHaveBeenCalledTimes(1); // not sendable yet
    outbox.settlePassage(waiting.id, true);
    expect(ready).toHaveBeenCalledTimes(2);
    outbox.settlePassage(waiting.id, true); // already settled: nothing new
    expect(ready).toHaveBeenCalledTimes(2);
    expect(warning).toHaveBeenCalled();
    unsubscribe();
    outbox.record(draft);
    expect(ready).toHaveBeenCalledTimes(2);
    warning.mockRestore();
    db.close();
  });
});
