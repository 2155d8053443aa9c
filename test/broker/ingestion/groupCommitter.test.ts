import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import type { ScanEvent } from '../../../protocol/event.js';
import { CommitterStoppedError, GroupCommitter, type GroupCommitResult } from '../../../broker/ingestion/groupCommitter.js';
import type { InsertResult } from '../../../broker/store/centralStore.js';
import { scanEvents } from '../mqtt/fixtures.js';

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };

function setup(options = { maxDelayMs: 10, maxEvents: 100 }) {
  const calls: ScanEvent[][] = [];
  const commits: GroupCommitResult[] = [];
  let gate: Promise<void> | null = null;
  let fail: Error | null = null;
  const stored = new Set<string>();
  const committer = new GroupCommitter(options, {
    insert: async (events): Promise<InsertResult> => {
      calls.push([...events]);
      if (gate) await gate;
      if (fail) throw fail;
      const fresh = events.filter((e) => !stored.has(e.id));
      for (const e of fresh) stored.add(e.id);
      return { inserted: fresh.length, duplicates: events.length - fresh.length, stored: fresh };
    },
    onCommit: (result) => commits.push(result),
  });
  return {
    committer,
    calls,
    commits,
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = null;
        release();
      };
    },
    failWith: (err: Error | null) => (fail = err),
  };
}

describe('GroupCommitter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits maxDelayMs for company, then commits everything in one insert', async () => {
    const s = setup();
    const done = [s.committer.submit(scanEvents(who, 3)), s.committer.submit(scanEvents(who, 4)), s.committer.submit(scanEvents(who, 5))];
    await vi.advanceTimersByTimeAsync(9);
    expect(s.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(done);
    expect(s.calls.map((c) => c.length)).toEqual([12]);
    expect(s.commits).toMatchObject([{ inserted: 12, duplicates: 0, submissions: 3 }]);
  });

  it('starts at once when maxEvents are waiting, never splitting a submission', async () => {
    const s = setup({ maxDelayMs: 1000, maxEvents: 100 });
    const first = s.committer.submit(scanEvents(who, 60));
    expect(s.calls).toHaveLength(0);
    const second = s.committer.submit(scanEvents(who, 60));
    await Promise.all([first, second]);
    // 120 waiting: the first group is cut before the second submission would pass 100.
    expect(s.calls.map((c) => c.length)).toEqual([60, 60]);
  });

  it('runs one commit at a time; what arrives meanwhile forms the next group', async () => {
    const s = setup();
    const release = s.hold();
    const first = s.committer.submit(scanEvents(who, 1));
    await vi.advanceTimersByTimeAsync(10);
    expect(s.calls).toHaveLength(1);
    const later = [s.committer.submit(scanEvents(who, 2)), s.committer.submit(scanEvents(who, 3))];
    await vi.advanceTimersByTimeAsync(50);
    expect(s.calls).toHaveLength(1); // still waiting for the first
    release();
    await Promise.all([first, ...later]);
    expect(s.calls.map((c) => c.length)).toEqual([1, 5]);
  });

  it('rejects every submission of a failed group, and commits the next group normally', async () => {
    const s = setup();
    s.failWith(new Error('disk full'));
    const failed = [s.committer.submit(scanEvents(who, 1)), s.committer.submit(scanEvents(who, 1))];
    const settled = Promise.allSettled(failed);
    await vi.advanceTimersByTimeAsync(10);
    expect((await settled).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    s.failWith(null);
    const ok = s.committer.submit(scanEvents(who, 1));
    await vi.advanceTimersByTimeAsync(10);
    await expect(ok).resolves.toBeUndefined();
  });

  it('sends a redelivery sharing a group with its original only once, counted as duplicate', async () => {
    const s = setup();
    const events = scanEvents(who, 4);
    const done = [s.committer.submit(events), s.committer.submit(events)];
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(done);
    expect(s.calls.map((c) => c.length)).toEqual([4]);
    expect(s.commits).toMatchObject([{ inserted: 4, duplicates: 4 }]);
    expect(s.commits[0]!.stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('flushes without waiting for the timer, and refuses submissions after stop', async () => {
    const s = setup({ maxDelayMs: 60_000, maxEvents: 100 });
    const waiting = s.committer.submit(scanEvents(who, 2));
    await s.committer.stop();
    await waiting;
    expect(s.calls).toHaveLength(1);
    await expect(s.committer.submit(scanEvents(who, 1))).rejects.toBeInstanceOf(CommitterStoppedError);
    await s.committer.stop(); // twice is fine
    expect(vi.getTimerCount()).toBe(0);
  });
});
