import { describe, expect, it } from 'vitest';
import { TerminalClock } from '../../gateway/clock.js';
import { Outbox, type EventDraft } from '../../gateway/outbox.js';
import { openTerminalDb } from '../../gateway/terminalDb.js';
import { scanEventSchema } from '../../protocol/event.js';
import { useTempDir } from '../helpers/tempDir.js';

const draft: EventDraft = {
  lane: 'in',
  direction: 'in',
  credentialType: 'cccd',
  credentialRef: 'ab'.repeat(32),
  listVersion: 3,
  decision: 'granted',
  reason: 'allowed',
  passback: false,
  passed: null,
  latencyMs: 0.42,
};

const identity = (bootId: string) => ({ terminalId: 'gate-a-1', checkpointCode: '10000000000008', bootId });

function open(dataDir: string, bootId: string) {
  const db = openTerminalDb(dataDir);
  const clock = new TerminalClock(db);
  return { db, clock, outbox: new Outbox(db, identity(bootId), clock) };
}

interface Row {
  seq: number;
  id: string;
  event: string;
  final: number;
}

describe('Outbox', () => {
  const tempDir = useTempDir();

  it('stores every decision as a valid event with a sequence that never repeats across restarts', () => {
    const dir = tempDir();
    const seqs: number[] = [];
    for (const bootId of ['0b5d4c36-5f7e-4f6b-9d7e-4f1e2a3b4c5d', '1b5d4c36-5f7e-4f6b-9d7e-4f1e2a3b4c5d']) {
      const { db, outbox } = open(dir, bootId);
      for (let i = 0; i < 5; i++) seqs.push(outbox.record(draft).seq);
      db.close();
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const { db } = open(dir, 'x');
    const rows = db.prepare<[], Row>('SELECT * FROM outbox ORDER BY seq').all();
    expect(rows).toHaveLength(10);
    const events = rows.map((row) => scanEventSchema.parse(JSON.parse(row.event)));
    expect(new Set(events.map((e) => e.id)).size).toBe(10);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort());
    expect(events[0]).toMatchObject({ terminalId: 'gate-a-1', checkpointCode: '10000000000008', seq: 1, decision: 'granted' });
    db.close();
  });

  it('keeps a grant waiting for the passage sensor out of the final rows until it is settled', () => {
    const { db, outbox } = open(tempDir(), '0b5d4c36-5f7e-4f6b-9d7e-4f1e2a3b4c5d');
    const waiting = outbox.record(draft, { awaitingPassage: true });
    const other = outbox.record(draft, { awaitingPassage: true });
    const finalRows = () => db.prepare<[], Row>('SELECT * FROM outbox WHERE final = 1').all();
    expect(finalRows()).toHaveLength(0);

    outbox.settlePassage(waiting.id, true);
    const settled = finalRows();
    expect(settled).toHaveLength(1);
    expect(JSON.parse(settled[0]!.event)).toMatchObject({ id: waiting.id, passed: true });

    // a restart releases what the previous run left waiting, with `passed` unknown
    expect(outbox.finalizeAbandoned()).toBe(1);
    const released = finalRows().find((row) => row.id === other.id)!;
    expect(JSON.parse(released.event).passed).toBeNull();
    db.close();
  });
});

describe('TerminalClock', () => {
  const tempDir = useTempDir();

  it('never runs backwards and says so when the wall clock is behind a time already seen', () => {
    const dir = tempDir();
    let wall = Date.parse('2026-11-23T08:00:00Z');
    const db = openTerminalDb(dir);
    const clock = new TerminalClock(db, { wallMs: () => wall, osSynced: () => null });
    expect(clock.now()).toEqual({ ms: wall, trusted: true });
    clock.persist();
    db.close();

    // reboot without network: the clock starts back in 1970
    wall = 0;
    const db2 = openTerminalDb(dir);
    const rebooted = new TerminalClock(db2, { wallMs: () => wall, monotonicMs: () => 0, osSynced: () => null });
    expect(rebooted.now()).toEqual({ ms: Date.parse('2026-11-23T08:00:00Z'), trusted: false });
    // a verified list issued later is evidence too
    rebooted.observe(Date.parse('2026-11-24T00:00:00Z'));
    expect(rebooted.now().ms).toBe(Date.parse('2026-11-24T00:00:00Z'));
    db2.close();
  });

  function clockRig(options: { synced?: boolean | null } = {}) {
    const dir = tempDir();
    const db = openTerminalDb(dir);
    const time = { wall: Date.parse('2026-11-23T08:00:00Z'), monotonic: 1000 };
    const make = () => new TerminalClock(db, { wallMs: () => time.wall, monotonicMs: () => time.monotonic, osSynced: () => options.synced ?? null });
    const pass = (ms: number) => {
      time.wall += ms;
      time.monotonic += ms;
    };
    return { db, time, pass, clock: make(), make };
  }

  it('after the wall clock steps back an hour it keeps moving, slewed and untrusted, and meets the wall clock again', () => {
    const { db, time, pass, clock } = clockRig();
    const start = clock.now().ms;
    pass(10_000);
    time.wall -= 3600_000; // an NTP step back of a clock that ran an hour fast, without a sync flag
    expect(clock.now()).toEqual({ ms: start + 5_000, trusted: false });
    pass(10_000);
    // Not frozen: a person scanning again 10 s later is 5 s later, not a "duplicate" for the next hour.
    expect(clock.now()).toEqual({ ms: start + 10_000, trusted: false });
    pass(3600_000 * 2);
    expect(clock.now()).toEqual({ ms: time.wall, trusted: true });
    db.close();
  });

  it('with the OS saying the clock is synchronised, a step back is a correction: followed at once, and not undone by a restart', () => {
    const { db, time, pass, clock, make } = clockRig({ synced: true });
    time.wall += 4 * 365 * 86_400_000; // set years ahead by hand
    const ahead = clock.now().ms;
    clock.persist();
    time.wall -= 4 * 365 * 86_400_000; // NTP puts it right
    pass(1000);
    expect(clock.now()).toEqual({ ms: time.wall, trusted: true });
    expect(clock.now().ms).toBeLessThan(ahead);
    pass(1000);
    expect(make().now()).toEqual({ ms: time.wall, trusted: true });
    db.close();
  });

  it('never stamps an event later than what a restart starts from, even killed before the clock was persisted', () => {
    // Found by the chaos suite (test/chaos): the clock persists its high-water mark once a
    // minute, so a SIGKILL lost up to a minute of it, and after the wall clock stepped back
    // the next boot stamped its events up to a minute before the last ones: time ran backwards.
    const dir = tempDir();
    const t0 = Date.parse('2026-03-01T08:00:00Z');
    let wallMs = t0;
    const first = openTerminalDb(dir);
    const firstClock = new TerminalClock(first, { wallMs: () => wallMs, osSynced: () => null });
    const firstOutbox = new Outbox(first, identity('0b5d4c36-5f7e-4f6b-9d7e-4f1e2a3b4c5d'), firstClock);
    firstOutbox.record(draft);
    wallMs = t0 + 30_000; // within the clock's own persistence interval
    const last = firstOutbox.record(draft);
    first.close(); // no stop(), no persist(): what a SIGKILL leaves behind

    wallMs = t0 - 3_600_000; // NTP steps the wall clock back an hour
    const second = openTerminalDb(dir);
    const secondClock = new TerminalClock(second, { wallMs: () => wallMs, osSynced: () => null });
    const next = new Outbox(second, identity('1b5d4c36-5f7e-4f6b-9d7e-4f1e2a3b4c5d'), secondClock).record(draft);
    second.close();
    expect(Date.parse(next.ts)).toBeGreaterThanOrEqual(Date.parse(last.ts));
    expect(next.id > last.id).toBe(true); // UUIDv7: still in time order
    expect(next.clockTrusted).toBe(false);
  });
});

