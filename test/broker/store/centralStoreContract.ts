import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../../protocol/event.js';
import { maxOpenCommands, type CentralStore, type EventQuery, type MemberSummary, type NewTerminalCommand, type SequenceGap, type TerminalCommand } from '../../../broker/store/centralStore.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import type { CommandAck } from '../../../protocol/messages.js';
import { toRuns } from '../../../broker/store/sequenceGaps.js';
import { batches, CP_A, CP_B, CP_C, eventRun, scanEvent, seededRandom, shuffled, telemetry } from './scanEvents.js';

/**
 * The CentralStore contract (STYLE.md habit 3, as aedes-persistence's abstract suite): one
 * suite, run against every implementation — SQLite now, PostgreSQL next. It talks to the
 * store only through the interface. `makeStore` returns a store on fresh, empty storage,
 * not yet migrated; the suite migrates and closes it.
 */

const HASH = 'scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Gaps a terminal must report after storing `stored` (distinct seqs): the holes below its maximum. */
export function expectedGaps(terminalId: string, stored: ReadonlySet<number>): SequenceGap[] {
  const max = Math.max(0, ...stored);
  const missing: number[] = [];
  for (let seq = 1; seq <= max; seq++) if (!stored.has(seq)) missing.push(seq);
  return toRuns(missing).map((run) => ({ terminalId, ...run }));
}

function newestFirst(a: ScanEvent, b: ScanEvent): number {
  const byTs = Date.parse(b.ts) - Date.parse(a.ts);
  if (byTs !== 0) return byTs;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function describeCentralStore(name: string, makeStore: () => Promise<CentralStore>): void {
  describe(`CentralStore contract: ${name}`, () => {
    const stores: CentralStore[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    async function open(): Promise<CentralStore> {
      const store = await makeStore();
      stores.push(store);
      await store.migrate();
      return store;
    }

    /** Checkpoints A (terminals t1, t2) and B (terminal t3), each terminal with the list scopes of `fleetScopes`. */
    const fleetScopes = { t1: ['default'], t2: ['site-a', 'province-46'], t3: ['default'] } as const;
    async function openWithFleet(): Promise<CentralStore> {
      const store = await open();
      await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
      await store.createCheckpoint({ code: CP_B, name: 'Gate B', direction: 'in', confirm: 'manual' });
      for (const [terminalId, checkpointCode] of [['t1', CP_A], ['t2', CP_A], ['t3', CP_B]] as const) {
        await store.addTerminal({ terminalId, checkpointCode, secretHash: HASH, listScopes: fleetScopes[terminalId] });
      }
      return store;
    }

    describe('lifecycle', () => {
      it('migrates an already migrated store without harm and closes twice', async () => {
        const store = await openWithFleet();
        await store.migrate();
        expect((await store.listCheckpoints()).map((c) => c.code)).toEqual([CP_A, CP_B].sort());
        await store.close();
        await store.close();
      });
    });

    describe('checkpoints and terminals', () => {
      it('creates, reads and lists checkpoints', async () => {
        const store = await open();
        const created = await store.createCheckpoint({ code: CP_B, name: 'Gate B', direction: 'in', confirm: 'manual' });
        expect(created).toMatchObject({ code: CP_B, name: 'Gate B', direction: 'in', confirm: 'manual', retiredAt: null });
        expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
        await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
        expect(await store.getCheckpoint(CP_B)).toEqual(created);
        expect(await store.getCheckpoint('12345678901234')).toBeNull();
        expect((await store.listCheckpoints()).map((c) => c.code).sort()).toEqual([CP_A, CP_B].sort());
      });

      it('keeps the details of a checkpoint, with empty defaults when none are given', async () => {
        const store = await open();
        const plain = await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
        expect(plain).toMatchObject({ unit: '', latitude: null, longitude: null, branch: false });
        const detailed = { code: CP_B, name: 'Cổng nhánh', direction: 'in', confirm: 'manual', unit: 'Công ty May Huế', latitude: 16.4637, longitude: 107.5909, branch: true } as const;
        expect(await store.createCheckpoint(detailed)).toMatchObject(detailed);
        expect(await store.getCheckpoint(CP_B)).toMatchObject(detailed);
        expect(await store.getCheckpoint(CP_A)).toEqual(plain);
        expect((await store.listCheckpoints()).find((c) => c.code === CP_B)).toMatchObject(detailed);
      });

      it('updates only the fields given, and says null for an unknown checkpoint', async () => {
        const store = await open();
        const created = await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto', unit: 'Unit 1', latitude: 16.4, longitude: 107.5 });
        const updated = await store.updateCheckpoint(CP_A, { name: 'Gate A2', branch: true, latitude: -90, longitude: 180 });
        expect(updated).toEqual({ ...created, name: 'Gate A2', branch: true, latitude: -90, longitude: 180 });
        expect(await store.getCheckpoint(CP_A)).toEqual(updated);
        expect(await store.updateCheckpoint(CP_A, { direction: 'out', confirm: 'manual', unit: '', latitude: null, longitude: null, branch: false })).toEqual({
          ...created,
          name: 'Gate A2',
          direction: 'out',
          confirm: 'manual',
          unit: '',
          latitude: null,
          longitude: null,
          branch: false,
        });
        expect(await store.updateCheckpoint(CP_A, {})).toMatchObject({ name: 'Gate A2' });
        expect(await store.updateCheckpoint('12345678901234', { name: 'x' })).toBeNull();
      });

      it('retires a checkpoint once, keeps it listed, and refuses to change it afterwards', async () => {
        const store = await openWithFleet();
        expect(await store.retireCheckpoint(CP_A)).toBe(true);
        const retired = await store.getCheckpoint(CP_A);
        expect(retired?.retiredAt).toEqual(expect.any(String));
        expect(await store.retireCheckpoint(CP_A)).toBe(false);
        expect((await store.getCheckpoint(CP_A))?.retiredAt).toBe(retired?.retiredAt);
        expect(await store.retireCheckpoint('12345678901234')).toBe(false);
        await expect(store.updateCheckpoint(CP_A, { name: 'again' })).rejects.toMatchObject({ code: 'checkpoint-retired' });
        expect(await store.getCheckpoint(CP_A)).toEqual(retired);
        expect(Object.fromEntries((await store.listCheckpoints()).map((c) => [c.code, c.retiredAt !== null]))).toEqual({ [CP_A]: true, [CP_B]: false });
        // Its terminals stay registered: their events still name them.
        expect(await store.getTerminalCredentials('t1')).toMatchObject({ checkpointCode: CP_A, removedAt: null });
      });

      it('replaces the secret hash of a live terminal only', async () => {
        const store = await openWithFleet();
        const other = 'scrypt$16384$8$1$b3RoZXJzYWx0$b3RoZXJoYXNoMTIzNDU2Nzg=';
        expect(await store.setTerminalSecret('t1', other)).toBe(true);
        expect(await store.getTerminalCredentials('t1')).toMatchObject({ secretHash: other, removedAt: null, listScopes: ['default'] });
        expect(await store.getTerminalCredentials('t2')).toMatchObject({ secretHash: HASH });
        expect(await store.setTerminalSecret('nobody', other)).toBe(false);
        await store.removeTerminal('t3');
        expect(await store.setTerminalSecret('t3', other)).toBe(false);
        expect(await store.getTerminalCredentials('t3')).toMatchObject({ secretHash: HASH });
      });

      it('refuses a checkpoint code that is already registered, keeping the first', async () => {
        const store = await open();
        await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
        await expect(store.createCheckpoint({ code: CP_A, name: 'Other', direction: 'in', confirm: 'manual' })).rejects.toMatchObject({
          code: 'checkpoint-exists',
        });
        expect(await store.getCheckpoint(CP_A)).toMatchObject({ name: 'Gate A' });
      });

      it('adds terminals, refusing a taken id and an unknown checkpoint', async () => {
        const store = await openWithFleet();
        expect(await store.getTerminalCredentials('t1')).toEqual({ terminalId: 't1', checkpointCode: CP_A, secretHash: HASH, removedAt: null, listScopes: ['default'] });
        expect(await store.getTerminalCredentials('nobody')).toBeNull();
        await expect(store.addTerminal({ terminalId: 't1', checkpointCode: CP_B, secretHash: HASH, listScopes: ['site-b'] })).rejects.toMatchObject({
          code: 'terminal-exists',
        });
        await expect(store.addTerminal({ terminalId: 't9', checkpointCode: '12345678901234', secretHash: HASH, listScopes: ['default'] })).rejects.toMatchObject({
          code: 'checkpoint-unknown',
        });
        expect(await store.getTerminalCredentials('t9')).toBeNull();
        expect(await store.getTerminalCredentials('t1')).toMatchObject({ checkpointCode: CP_A, listScopes: ['default'] });
      });

      it('keeps the list scopes each terminal was added with, in order, across a removal', async () => {
        // The broker's ACL is built from these: a terminal subscribes to these scopes' list topics only.
        const store = await openWithFleet();
        const scopes = ['site-a', 'province-46', 'default'];
        await store.addTerminal({ terminalId: 't4', checkpointCode: CP_B, secretHash: HASH, listScopes: scopes });
        scopes.push('site-b'); // the caller's array, changed after the call, is not what was stored
        expect((await store.getTerminalCredentials('t4'))?.listScopes).toEqual(['site-a', 'province-46', 'default']);
        expect((await store.getTerminalCredentials('t2'))?.listScopes).toEqual(['site-a', 'province-46']);
        expect((await store.getTerminalCredentials('t3'))?.listScopes).toEqual(['default']);
        await store.removeTerminal('t2');
        expect(await store.getTerminalCredentials('t2')).toMatchObject({ removedAt: expect.any(String), listScopes: ['site-a', 'province-46'] });
      });

      it("lists every terminal's credentials in one read, removed ones included, as getTerminalCredentials gives them", async () => {
        const store = await openWithFleet();
        await store.removeTerminal('t2');
        await store.setTerminalSecret('t3', `${HASH}x`);
        const listed = await store.listTerminalCredentials();
        expect(listed.map((c) => c.terminalId).sort()).toEqual(['t1', 't2', 't3']);
        for (const credentials of listed) expect(credentials).toEqual(await store.getTerminalCredentials(credentials.terminalId));
        expect(listed.find((c) => c.terminalId === 't2')?.removedAt).toEqual(expect.any(String));
        expect(listed.find((c) => c.terminalId === 't3')?.secretHash).toBe(`${HASH}x`);
      });

      it('removes a terminal once and never hands its id out again', async () => {
        const store = await openWithFleet();
        expect(await store.removeTerminal('t2')).toBe(true);
        expect(await store.removeTerminal('t2')).toBe(false);
        expect(await store.removeTerminal('nobody')).toBe(false);
        const credentials = await store.getTerminalCredentials('t2');
        expect(credentials?.removedAt).toEqual(expect.any(String));
        await expect(store.addTerminal({ terminalId: 't2', checkpointCode: CP_A, secretHash: HASH, listScopes: ['default'] })).rejects.toMatchObject({
          code: 'terminal-exists',
        });
      });
    });

    describe('insertEvents', () => {
      const t0 = Date.UTC(2025, 4, 1, 8);

      it('stores each event exactly once however often it is delivered', async () => {
        const store = await openWithFleet();
        const events = eventRun('t1', CP_A, 1, 10, t0);
        expect(await store.insertEvents(events, t0)).toEqual({ inserted: 10, duplicates: 0, stored: events });
        expect(await store.insertEvents(events, t0 + 1000)).toEqual({ inserted: 0, duplicates: 10, stored: [] });
        const more = eventRun('t1', CP_A, 11, 15, t0);
        expect(await store.insertEvents([...events.slice(5), ...more], t0 + 2000)).toEqual({ inserted: 5, duplicates: 5, stored: more });
        const page = await store.searchEvents({ terminal: 't1', limit: 100 });
        expect(page.events).toHaveLength(15);
        expect(new Set(page.events.map((e) => e.id)).size).toBe(15);
      });

      it('counts an event repeated inside one batch once', async () => {
        const store = await openWithFleet();
        const [a, b] = eventRun('t1', CP_A, 1, 2, t0) as [ScanEvent, ScanEvent];
        expect(await store.insertEvents([a, b, a, a], t0)).toEqual({ inserted: 2, duplicates: 2, stored: [a, b] });
        expect(await store.gaps()).toEqual([]);
      });

      it('stores overlapping batches written at the same time exactly once', async () => {
        const store = await openWithFleet();
        const events = eventRun('t1', CP_A, 1, 60, t0);
        const results = await Promise.all([
          store.insertEvents(events.slice(0, 40), t0),
          store.insertEvents(events.slice(20, 60), t0),
          store.insertEvents(events.slice(10, 50), t0),
        ]);
        expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(60);
        expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(60);
        expect(new Set(results.flatMap((r) => r.stored.map((e) => e.id))).size).toBe(60);
        expect(await store.gaps('t1')).toEqual([]);
        expect((await store.fleet()).find((t) => t.terminalId === 't1')?.lastSeq).toBe(60);
      });

      it('accepts an empty batch', async () => {
        const store = await openWithFleet();
        expect(await store.insertEvents([], t0)).toEqual({ inserted: 0, duplicates: 0, stored: [] });
      });

      it('keeps the event exactly as sent, with the time it was received', async () => {
        const store = await openWithFleet();
        const event = { ...scanEvent({ terminalId: 't3', checkpointCode: CP_B, seq: 1, tsMs: t0, decision: 'refused' }), credentialRef: null, latencyMs: null };
        await store.insertEvents([event], t0 + 2500);
        const page = await store.searchEvents({ limit: 10 });
        expect(page.events).toEqual([{ ...event, receivedAt: new Date(t0 + 2500).toISOString() }]);
      });
    });

    describe('sequence gaps', () => {
      const t0 = Date.UTC(2025, 4, 1, 8);
      const run = (terminalId: string, from: number, to: number) => eventRun(terminalId, terminalId === 't3' ? CP_B : CP_A, from, to, t0);

      it('opens a gap when numbers are skipped and closes it piece by piece as they arrive', async () => {
        const store = await openWithFleet();
        const [e1, e2, e3, e4, e5, e6, e7] = run('t1', 1, 7);
        await store.insertEvents([e1!, e2!, e3!, e7!], t0);
        expect(await store.gaps('t1')).toEqual([{ terminalId: 't1', fromSeq: 4, toSeq: 6 }]);
        await store.insertEvents([e5!], t0);
        expect(await store.gaps('t1')).toEqual([
          { terminalId: 't1', fromSeq: 4, toSeq: 4 },
          { terminalId: 't1', fromSeq: 6, toSeq: 6 },
        ]);
        await store.insertEvents([e6!], t0);
        expect(await store.gaps('t1')).toEqual([{ terminalId: 't1', fromSeq: 4, toSeq: 4 }]);
        await store.insertEvents([e4!], t0);
        expect(await store.gaps('t1')).toEqual([]);
      });

      it('reports the numbers before a terminal’s first event as missing', async () => {
        const store = await openWithFleet();
        await store.insertEvents(run('t2', 5, 6), t0);
        expect(await store.gaps('t2')).toEqual([{ terminalId: 't2', fromSeq: 1, toSeq: 4 }]);
      });

      it('finds no gap in a complete batch that arrives out of order', async () => {
        const store = await openWithFleet();
        const events = run('t1', 1, 50);
        await store.insertEvents(shuffled(events, seededRandom(7)), t0);
        expect(await store.gaps('t1')).toEqual([]);
        expect((await store.fleet()).find((t) => t.terminalId === 't1')?.lastSeq).toBe(50);
      });

      it('sees later batches arrive before earlier ones without reporting a lasting gap', async () => {
        const store = await openWithFleet();
        const events = run('t1', 1, 30);
        await store.insertEvents(events.slice(20, 30), t0);
        expect(await store.gaps('t1')).toEqual([{ terminalId: 't1', fromSeq: 1, toSeq: 20 }]);
        await store.insertEvents(events.slice(10, 20), t0);
        expect(await store.gaps('t1')).toEqual([{ terminalId: 't1', fromSeq: 1, toSeq: 10 }]);
        await store.insertEvents([...events.slice(0, 4), ...events.slice(6, 10)].reverse(), t0);
        expect(await store.gaps('t1')).toEqual([{ terminalId: 't1', fromSeq: 5, toSeq: 6 }]);
        await store.insertEvents(events.slice(4, 6), t0);
        expect(await store.gaps('t1')).toEqual([]);
      });

      it('fills several gaps with one batch', async () => {
        const store = await openWithFleet();
        const events = run('t1', 1, 20);
        await store.insertEvents(events.filter((e) => e.seq % 4 !== 0), t0);
        expect((await store.gaps('t1')).map((g) => [g.fromSeq, g.toSeq])).toEqual([[4, 4], [8, 8], [12, 12], [16, 16]]);
        await store.insertEvents(events.filter((e) => e.seq % 4 === 0), t0);
        expect(await store.gaps('t1')).toEqual([]);
      });

      it('leaves gaps alone on redelivery and on a number reused under a new id', async () => {
        const store = await openWithFleet();
        const events = run('t1', 1, 10);
        await store.insertEvents([...events.slice(0, 3), ...events.slice(6)], t0);
        const before = await store.gaps('t1');
        expect(before).toEqual([{ terminalId: 't1', fromSeq: 4, toSeq: 6 }]);
        expect(await store.insertEvents(events.slice(6), t0)).toEqual({ inserted: 0, duplicates: 4, stored: [] });
        expect(await store.gaps('t1')).toEqual(before);
        // A terminal restored from an old backup numbers again from 2: stored, but no gap is filled by it.
        const reused = scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: 2, tsMs: t0 + 99_000 });
        expect(await store.insertEvents([reused], t0)).toEqual({ inserted: 1, duplicates: 0, stored: [reused] });
        expect(await store.gaps('t1')).toEqual(before);
      });

      it('keeps each terminal’s sequence separate and lists gaps by terminal', async () => {
        const store = await openWithFleet();
        await store.insertEvents([...run('t1', 1, 2), ...run('t3', 1, 1), ...run('t1', 5, 5), ...run('t3', 3, 3), ...run('t2', 2, 2)], t0);
        expect(await store.gaps()).toEqual([
          { terminalId: 't1', fromSeq: 3, toSeq: 4 },
          { terminalId: 't2', fromSeq: 1, toSeq: 1 },
          { terminalId: 't3', fromSeq: 2, toSeq: 2 },
        ]);
        expect(await store.gaps('t3')).toEqual([{ terminalId: 't3', fromSeq: 2, toSeq: 2 }]);
        expect(await store.gaps('nobody')).toEqual([]);
      });

      it('agrees with a model after random loss, reordering and redelivery', async () => {
        const store = await openWithFleet();
        const random = seededRandom(2025);
        const events = run('t1', 1, 300);
        const lost = new Set(events.filter(() => random(10) === 0).map((e) => e.seq));
        const delivered = shuffled(
          events.filter((e) => !lost.has(e.seq)),
          random,
        );
        const stored = new Set<number>();
        let inserted = 0;
        for (const batch of batches(delivered, 25, random)) {
          // Each batch also carries a few events already stored: the broker redelivering them.
          const storedEvents = events.filter((e) => stored.has(e.seq));
          const redelivered = storedEvents.length > 0 ? [storedEvents[random(storedEvents.length)]!] : [];
          const result = await store.insertEvents(shuffled([...batch, ...redelivered], random), t0);
          inserted += result.inserted;
          expect(result.duplicates).toBe(redelivered.length);
          for (const e of batch) stored.add(e.seq);
          expect(await store.gaps('t1')).toEqual(expectedGaps('t1', stored));
        }
        expect(inserted).toBe(300 - lost.size);
      });
    });

    describe('checkpointStats', () => {
      const now = Date.UTC(2025, 4, 31, 12);

      it('counts events in the last hour, day, week and 30 days, by decision', async () => {
        const store = await openWithFleet();
        let seq = 0;
        const at = (offsetMs: number, decision: 'granted' | 'refused' | 'duplicate', terminalId = 't1') =>
          scanEvent({ terminalId, checkpointCode: terminalId === 't3' ? CP_B : CP_A, seq: ++seq, tsMs: now + offsetMs, decision });
        await store.insertEvents(
          [
            at(0, 'granted'), // the newest moment counted
            at(-MINUTE, 'granted'),
            at(-59 * MINUTE, 'refused'),
            at(-HOUR, 'granted'), // on the boundary: outside the hour
            at(-2 * HOUR, 'duplicate'),
            at(-23 * HOUR, 'refused'),
            at(-25 * HOUR, 'granted'),
            at(-6 * DAY, 'granted'),
            at(-8 * DAY, 'refused'),
            at(-29 * DAY, 'duplicate'),
            at(-30 * DAY, 'granted'), // outside the month
            at(-40 * DAY, 'granted'),
            at(MINUTE, 'granted'), // a clock running ahead: in no window
            at(-MINUTE, 'granted', 't3'), // another checkpoint
          ],
          now,
        );
        expect(await store.checkpointStats(CP_A, now)).toEqual({
          code: CP_A,
          name: 'Gate A',
          lastHour: 3,
          lastDay: 6,
          lastWeek: 8,
          lastMonth: 10,
          byDecision: {
            granted: { lastHour: 2, lastDay: 3, lastWeek: 5, lastMonth: 5 },
            refused: { lastHour: 1, lastDay: 2, lastWeek: 2, lastMonth: 3 },
            duplicate: { lastHour: 0, lastDay: 1, lastWeek: 1, lastMonth: 2 },
          },
        });
        expect(await store.checkpointStats(CP_B, now)).toMatchObject({ code: CP_B, name: 'Gate B', lastHour: 1, lastMonth: 1 });
        // The same events a day later: the one stamped a minute ahead is now the only one in the last day.
        expect(await store.checkpointStats(CP_A, now + DAY)).toMatchObject({ lastHour: 0, lastDay: 1, lastWeek: 8, lastMonth: 10 });
      });

      it('answers zeros for a checkpoint without events and null for an unknown one', async () => {
        const store = await openWithFleet();
        const zero = { lastHour: 0, lastDay: 0, lastWeek: 0, lastMonth: 0 };
        expect(await store.checkpointStats(CP_B, now)).toEqual({
          code: CP_B,
          name: 'Gate B',
          ...zero,
          byDecision: { granted: zero, refused: zero, duplicate: zero },
        });
        expect(await store.checkpointStats('12345678901234', now)).toBeNull();
      });
    });

    describe('lastDayCounts', () => {
      const now = Date.UTC(2025, 4, 31, 12, 20);

      it("answers every checkpoint's last hour and day by decision in one call, as checkpointStats counts them", async () => {
        const store = await openWithFleet();
        await store.createCheckpoint({ code: CP_C, name: 'Gate C (no scans, retired)', direction: 'in', confirm: 'auto' });
        await store.retireCheckpoint(CP_C);
        let seq = 0;
        const at = (offsetMs: number, decision: 'granted' | 'refused' | 'duplicate', terminalId = 't1') =>
          scanEvent({ terminalId, checkpointCode: terminalId === 't3' ? CP_B : CP_A, seq: ++seq, tsMs: now + offsetMs, decision });
        await store.insertEvents(
          [
            at(0, 'granted'), // the newest moment counted
            at(-20 * MINUTE - 1, 'refused'), // before the current whole hour began
            at(-59 * MINUTE, 'granted'),
            at(-HOUR, 'granted'), // on the boundary: outside the hour, inside the day
            at(-2 * HOUR, 'duplicate'),
            at(-23 * HOUR - 59 * MINUTE, 'refused'),
            at(-DAY, 'granted'), // on the boundary: outside the day
            at(-25 * HOUR, 'granted'),
            at(MINUTE, 'granted'), // a clock running ahead: in no window
            at(-MINUTE, 'granted', 't3'), // another checkpoint
            at(-3 * HOUR, 'refused', 't3'),
          ],
          now,
        );
        const zero = { lastHour: 0, lastDay: 0 };
        const expected = [
          {
            code: CP_A,
            lastHour: 3,
            lastDay: 6,
            byDecision: { granted: { lastHour: 2, lastDay: 3 }, refused: { lastHour: 1, lastDay: 2 }, duplicate: { lastHour: 0, lastDay: 1 } },
          },
          { code: CP_B, lastHour: 1, lastDay: 2, byDecision: { granted: { lastHour: 1, lastDay: 1 }, refused: { lastHour: 0, lastDay: 1 }, duplicate: zero } },
          { code: CP_C, ...zero, byDecision: { granted: zero, refused: zero, duplicate: zero } },
        ].sort((a, b) => (a.code < b.code ? -1 : 1));
        expect(await store.lastDayCounts(now)).toEqual(expected);
        // The same numbers checkpointStats gives, at a `now` on an hour boundary and off one.
        for (const nowMs of [now, now + 40 * MINUTE, now + 5 * HOUR + 1]) {
          for (const counts of await store.lastDayCounts(nowMs)) {
            const stats = (await store.checkpointStats(counts.code, nowMs))!;
            expect(counts).toEqual({
              code: stats.code,
              lastHour: stats.lastHour,
              lastDay: stats.lastDay,
              byDecision: Object.fromEntries(Object.entries(stats.byDecision).map(([d, w]) => [d, { lastHour: w.lastHour, lastDay: w.lastDay }])),
            });
          }
        }
      });

      it('answers an empty list when there are no checkpoints', async () => {
        const store = await open();
        expect(await store.lastDayCounts(now)).toEqual([]);
      });
    });

    describe('checkpointHistogram', () => {
      // Midnight 1 June 2025 in Ho Chi Minh City is 17:00 UTC on 31 May.
      const localMidnight = Date.UTC(2025, 4, 31, 17);

      it('counts scans per hour and per local (UTC+7) day, a bar for every bucket, zeros included', async () => {
        const store = await openWithFleet();
        let seq = 0;
        const at = (tsMs: number, terminalId = 't1') => scanEvent({ terminalId, checkpointCode: terminalId === 't3' ? CP_B : CP_A, seq: ++seq, tsMs });
        await store.insertEvents(
          [
            at(localMidnight - 1), // 23:59:59.999 local on 31 May
            at(localMidnight), // 00:00 local on 1 June
            at(localMidnight + 30 * MINUTE),
            at(localMidnight + 59 * MINUTE + 59_999),
            at(localMidnight + 2 * HOUR + 5 * MINUTE),
            at(localMidnight + 6 * HOUR, 't3'), // another checkpoint
            at(localMidnight + DAY + 7 * HOUR), // 07:00 local on 2 June, i.e. 00:00 UTC
          ],
          localMidnight,
        );

        const hours = await store.checkpointHistogram(CP_A, localMidnight - HOUR, localMidnight + 3 * HOUR, 'hour');
        expect(hours).toEqual([
          { startMs: localMidnight - HOUR, count: 1 },
          { startMs: localMidnight, count: 3 },
          { startMs: localMidnight + HOUR, count: 0 },
          { startMs: localMidnight + 2 * HOUR, count: 1 },
        ]);

        // A range starting mid-day: the first bar is that local day's, counting only what is in range.
        const days = await store.checkpointHistogram(CP_A, localMidnight - 12 * HOUR, localMidnight + 3 * DAY, 'day');
        expect(days).toEqual([
          { startMs: localMidnight - DAY, count: 1 },
          { startMs: localMidnight, count: 4 },
          { startMs: localMidnight + DAY, count: 1 },
          { startMs: localMidnight + 2 * DAY, count: 0 },
        ]);
        // The end is exclusive.
        expect(await store.checkpointHistogram(CP_A, localMidnight, localMidnight + 30 * MINUTE, 'hour')).toEqual([{ startMs: localMidnight, count: 1 }]);
      });

      it('answers zero bars for a checkpoint without scans and none for an empty range', async () => {
        const store = await openWithFleet();
        expect(await store.checkpointHistogram(CP_B, localMidnight, localMidnight + 2 * DAY, 'day')).toEqual([
          { startMs: localMidnight, count: 0 },
          { startMs: localMidnight + DAY, count: 0 },
        ]);
        expect(await store.checkpointHistogram(CP_B, localMidnight, localMidnight, 'hour')).toEqual([]);
      });
    });

    describe('searchEvents', () => {
      const t0 = Date.UTC(2025, 2, 3, 7);
      const receivedAtMs = t0 + DAY;

      /**
       * 250 events over t1, t2 (checkpoint A) and t3 (B), three to a millisecond so the id
       * breaks ties, stored in shuffled batches so storage order says nothing.
       */
      async function openWith250(): Promise<{ store: CentralStore; all: ScanEvent[] }> {
        const store = await openWithFleet();
        const seqs = new Map<string, number>();
        const all: ScanEvent[] = [];
        for (let i = 0; i < 250; i++) {
          const terminalId = ['t1', 't2', 't3'][i % 3]!;
          const seq = (seqs.get(terminalId) ?? 0) + 1;
          seqs.set(terminalId, seq);
          all.push(
            scanEvent({
              terminalId,
              checkpointCode: terminalId === 't3' ? CP_B : CP_A,
              seq,
              tsMs: t0 + Math.floor(i / 3) * 1000,
              direction: i % 2 === 0 ? 'in' : 'out',
              decision: (['granted', 'granted', 'refused', 'duplicate'] as const)[i % 4],
            }),
          );
        }
        const random = seededRandom(250);
        for (const batch of batches(shuffled(all, random), 40, random)) await store.insertEvents(batch, receivedAtMs);
        return { store, all: all.sort(newestFirst) };
      }

      async function readAll(store: CentralStore, query: Omit<EventQuery, 'cursor'>): Promise<{ events: ScanEvent[]; pages: number[] }> {
        const events: ScanEvent[] = [];
        const pages: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.searchEvents({ ...query, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(page.events.length);
          events.push(...page.events.map(({ receivedAt: _receivedAt, ...event }) => event));
          cursor = page.nextCursor ?? undefined;
          expect(pages.length).toBeLessThan(300);
        } while (cursor !== undefined);
        return { events, pages };
      }

      it('pages through every event newest first, ties broken by id', async () => {
        const { store, all } = await openWith250();
        const { events, pages } = await readAll(store, { limit: 100 });
        expect(pages).toEqual([100, 100, 50]);
        expect(events).toEqual(all);
      });

      it('returns whole events with the time they were received', async () => {
        const { store, all } = await openWith250();
        const page = await store.searchEvents({ limit: 3 });
        expect(page.events).toEqual(all.slice(0, 3).map((e) => ({ ...e, receivedAt: new Date(receivedAtMs).toISOString() })));
        expect(page.nextCursor).toEqual(expect.any(String));
      });

      const filters: readonly (readonly [string, Omit<EventQuery, 'limit' | 'cursor'>, (e: ScanEvent) => boolean])[] = [
        ['checkpoint', { checkpoint: CP_A }, (e) => e.checkpointCode === CP_A],
        ['terminal', { terminal: 't3' }, (e) => e.terminalId === 't3'],
        ['direction', { direction: 'out' }, (e) => e.direction === 'out'],
        ['decision', { decision: 'refused' }, (e) => e.decision === 'refused'],
        [
          'from (inclusive) and to (exclusive)',
          { from: new Date(t0 + 10_000).toISOString(), to: new Date(t0 + 50_000).toISOString() },
          (e) => Date.parse(e.ts) >= t0 + 10_000 && Date.parse(e.ts) < t0 + 50_000,
        ],
        [
          'checkpoint, direction and decision together',
          { checkpoint: CP_A, direction: 'in', decision: 'granted' },
          (e) => e.checkpointCode === CP_A && e.direction === 'in' && e.decision === 'granted',
        ],
        ['terminal and from', { terminal: 't1', from: new Date(t0 + 40_000).toISOString() }, (e) => e.terminalId === 't1' && Date.parse(e.ts) >= t0 + 40_000],
      ];
      for (const [what, filter, matches] of filters) {
        it(`filters by ${what}, across pages`, async () => {
          const { store, all } = await openWith250();
          const expected = all.filter(matches);
          expect(expected.length).toBeGreaterThan(7);
          const { events, pages } = await readAll(store, { ...filter, limit: 7 });
          expect(events).toEqual(expected);
          expect(pages.slice(0, -1).every((n) => n === 7)).toBe(true);
        });
      }

      describe('by credential refs (the people a filter by person, unit or residence picked)', () => {
        const person = (n: number) => n.toString(16).padStart(64, '0');
        /** openWith250's events, each made by one of five people or by an unreadable scan (no ref). */
        async function openWithPeople(): Promise<{ store: CentralStore; all: ScanEvent[] }> {
          const store = await openWithFleet();
          const all = (await openWith250Events()).map((e, i) =>
            i % 6 === 5 ? { ...e, credentialType: 'unknown' as const, credentialRef: null } : { ...e, credentialRef: person(i % 6) },
          );
          const random = seededRandom(6);
          for (const batch of batches(shuffled(all, random), 40, random)) await store.insertEvents(batch, receivedAtMs);
          return { store, all: all.sort(newestFirst) };
        }
        async function openWith250Events(): Promise<ScanEvent[]> {
          const { store, all } = await openWith250();
          await store.close();
          return all;
        }
        const refCases: readonly (readonly [string, readonly string[], Omit<EventQuery, 'limit' | 'cursor'>])[] = [
          ['one person', [person(1)], {}],
          ['a few people, with a checkpoint and a time range', [person(0), person(2), person(99)], { checkpoint: CP_A, from: new Date(t0 + 20_000).toISOString() }],
          // Past the few a store may look up one by one: a whole unit's or ward's people.
          ['hundreds of refs, most of them nobody’s', [...Array.from({ length: 300 }, (_, i) => person(1000 + i)), person(3), person(4)], { direction: 'in' }],
          ['a terminal, refs in upper-case hex', [0, 1, 2, 3, 4].map((n) => person(n).toUpperCase()), { terminal: 't3' }],
        ];
        for (const [what, refs, rest] of refCases) {
          it(`filters by ${what}, newest first across pages`, async () => {
            const { store, all } = await openWithPeople();
            const wanted = new Set(refs.map((ref) => ref.toLowerCase()));
            const expected = all.filter(
              (e) =>
                e.credentialRef !== null &&
                wanted.has(e.credentialRef) &&
                (rest.checkpoint === undefined || e.checkpointCode === rest.checkpoint) &&
                (rest.terminal === undefined || e.terminalId === rest.terminal) &&
                (rest.direction === undefined || e.direction === rest.direction) &&
                (rest.from === undefined || Date.parse(e.ts) >= Date.parse(rest.from)),
            );
            expect(expected.length).toBeGreaterThan(5);
            const { events, pages } = await readAll(store, { ...rest, credentialRefs: refs, limit: 5 });
            expect(events).toEqual(expected);
            expect(pages.slice(0, -1).every((n) => n === 5)).toBe(true);
          });
        }

        it('matches nothing for no refs, and never an event without a credential', async () => {
          const { store } = await openWithPeople();
          expect(await store.searchEvents({ credentialRefs: [], limit: 10 })).toEqual({ events: [], nextCursor: null });
          expect(await store.searchEvents({ credentialRefs: ['not hex', ''], limit: 10 })).toEqual({ events: [], nextCursor: null });
        });
      });

      it('ends with a null cursor when the last page is exactly full, and on no match', async () => {
        const { store, all } = await openWith250();
        const count = all.filter((e) => e.terminalId === 't2').length;
        const page = await store.searchEvents({ terminal: 't2', limit: count });
        expect(page.events).toHaveLength(count);
        expect(page.nextCursor).toBeNull();
        expect(await store.searchEvents({ terminal: 'nobody', limit: 10 })).toEqual({ events: [], nextCursor: null });
      });

      it('refuses a malformed cursor', async () => {
        const store = await openWithFleet();
        const valid = (await store.insertEvents(eventRun('t1', CP_A, 1, 3, t0), t0), await store.searchEvents({ limit: 1 })).nextCursor!;
        for (const cursor of ['', 'not a cursor', '%%%', 'AAAA', valid.slice(0, -4), `${valid}x`, Buffer.from(`1:${t0}:x`).toString('base64url')]) {
          await expect(store.searchEvents({ limit: 10, cursor }), cursor).rejects.toMatchObject({ code: 'cursor-invalid' });
        }
      });

      it('refuses a limit outside 1..1000 and a time that is not ISO 8601', async () => {
        const store = await openWithFleet();
        for (const limit of [0, -1, 1001, 2.5, Number.NaN]) {
          await expect(store.searchEvents({ limit }), String(limit)).rejects.toMatchObject({ code: 'query-invalid' });
        }
        await expect(store.searchEvents({ limit: 10, from: 'yesterday' })).rejects.toMatchObject({ code: 'query-invalid' });
        expect(await store.searchEvents({ limit: 1000 })).toEqual({ events: [], nextCursor: null });
      });
    });

    describe('fleet', () => {
      const t0 = Date.UTC(2025, 4, 1, 8);
      const bootId = randomUUID();
      const iso = (ms: number) => new Date(ms).toISOString();
      const status = (state: 'online' | 'offline', atMs: number) => ({ v: 1 as const, state, bootId, at: iso(atMs) });

      it('lists every terminal, never seen ones and removed ones included, and says whose checkpoint is retired', async () => {
        const store = await openWithFleet();
        await store.removeTerminal('t3');
        const never = { online: false, lastSeenAt: null, bootId: null, telemetry: null, lastSeq: null, gaps: [] };
        expect(await store.fleet()).toEqual([
          { terminalId: 't1', checkpointCode: CP_A, ...never, removed: false, checkpointRetired: false },
          { terminalId: 't2', checkpointCode: CP_A, ...never, removed: false, checkpointRetired: false },
          { terminalId: 't3', checkpointCode: CP_B, ...never, removed: true, checkpointRetired: false },
        ]);
        await store.retireCheckpoint(CP_A);
        expect((await store.fleet()).map((t) => t.checkpointRetired)).toEqual([true, true, false]);
      });

      it('follows connections, status, telemetry and events', async () => {
        const store = await openWithFleet();
        const t1 = async () => (await store.fleet()).find((t) => t.terminalId === 't1')!;

        await store.recordConnection('t1', true, t0);
        expect(await t1()).toMatchObject({ online: true, lastSeenAt: iso(t0), bootId: null });

        await store.recordStatus('t1', status('online', t0 + 1000), t0 + 1000);
        expect(await t1()).toMatchObject({ online: true, lastSeenAt: iso(t0 + 1000), bootId });

        const heartbeat = telemetry(bootId, t0 + 2000, 4);
        await store.recordTelemetry('t1', heartbeat, t0 + 2000);
        expect(await t1()).toMatchObject({ lastSeenAt: iso(t0 + 2000), telemetry: heartbeat });

        await store.insertEvents([...eventRun('t1', CP_A, 1, 2, t0), ...eventRun('t1', CP_A, 5, 5, t0)], t0 + 3000);
        expect(await t1()).toMatchObject({ lastSeenAt: iso(t0 + 3000), lastSeq: 5, gaps: [{ terminalId: 't1', fromSeq: 3, toSeq: 4 }] });

        // The will, published by the broker, says offline but is no sign of life.
        await store.recordStatus('t1', status('offline', t0 + 4000), t0 + 4000);
        expect(await t1()).toMatchObject({ online: false, lastSeenAt: iso(t0 + 3000) });
        await store.recordConnection('t1', false, t0 + 4001);
        expect(await t1()).toMatchObject({ online: false, lastSeenAt: iso(t0 + 3000), telemetry: heartbeat });

        const others = (await store.fleet()).filter((t) => t.terminalId !== 't1');
        expect(others.every((t) => !t.online && t.lastSeenAt === null)).toBe(true);
      });

      it('ignores an update older than what it already holds', async () => {
        const store = await openWithFleet();
        const t1 = async () => (await store.fleet()).find((t) => t.terminalId === 't1')!;
        await store.recordConnection('t1', false, t0 + 5000);
        await store.recordConnection('t1', true, t0 + 4000);
        await store.recordStatus('t1', status('online', t0 + 3000), t0 + 3000);
        expect(await t1()).toMatchObject({ online: false, lastSeenAt: iso(t0 + 4000) });

        const newer = telemetry(bootId, t0 + 9000, 1);
        await store.recordTelemetry('t1', newer, t0 + 9000);
        await store.recordTelemetry('t1', { ...telemetry(randomUUID(), t0 + 8000, 2) }, t0 + 8000);
        expect(await t1()).toMatchObject({ telemetry: newer, bootId, lastSeenAt: iso(t0 + 9000) });
      });
    });

    describe('insideNow and takeOut (who is inside now)', () => {
      const person = (n: number) => n.toString(16).padStart(64, '0');
      let seq = 0;
      const passage = (ref: string, direction: 'in' | 'out', tsMs: number, more: Partial<ScanEvent> = {}): ScanEvent => ({
        ...scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: ++seq, tsMs, direction }),
        credentialRef: ref,
        ...more,
      });
      const t0 = Date.parse('2026-12-03T01:00:00Z');

      it('lists the people whose last passage was in, newest first, with when and where they went in', async () => {
        const store = await openWithFleet();
        await store.insertEvents(
          [
            passage(person(1), 'in', t0),
            passage(person(2), 'in', t0 + MINUTE),
            passage(person(3), 'in', t0 + 2 * MINUTE),
            passage(person(3), 'out', t0 + 3 * MINUTE),
            { ...passage(person(4), 'in', t0 + 4 * MINUTE), terminalId: 't3', checkpointCode: CP_B },
          ],
          t0 + 5 * MINUTE,
        );
        const inside = await store.insideNow(t0 - HOUR);
        expect(inside.map((p) => [p.ref, p.checkpointCode, p.since])).toEqual([
          [person(4), CP_B, new Date(t0 + 4 * MINUTE).toISOString()],
          [person(2), CP_A, new Date(t0 + MINUTE).toISOString()],
          [person(1), CP_A, new Date(t0).toISOString()],
        ]);
        expect(inside[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('counts only passages: refused, duplicate, remote opens, no ref and a sensor saying nobody passed leave presence alone', async () => {
        const store = await openWithFleet();
        await store.insertEvents([passage(person(1), 'in', t0), passage(person(2), 'in', t0)], t0);
        await store.insertEvents(
          [
            passage(person(1), 'out', t0 + MINUTE, { decision: 'refused', reason: 'unknown', passed: null }),
            passage(person(1), 'out', t0 + MINUTE, { decision: 'duplicate', reason: 'debounce', passed: null }),
            passage(person(1), 'out', t0 + MINUTE, { passed: false }),
            passage(person(2), 'out', t0 + MINUTE, { reason: 'remote-open' }),
            passage(person(3), 'in', t0 + MINUTE, { decision: 'refused', reason: 'unknown', passed: null }),
            { ...passage(person(9), 'in', t0 + MINUTE), credentialRef: null, credentialType: 'none', reason: 'remote-open' },
          ],
          t0 + MINUTE,
        );
        expect((await store.insideNow(t0 - HOUR)).map((p) => p.ref).sort()).toEqual([person(1), person(2)]);
      });

      it('lets a late event (an outbox drained after an outage) not reopen what a later exit closed', async () => {
        const store = await openWithFleet();
        await store.insertEvents([passage(person(1), 'out', t0 + HOUR)], t0 + HOUR);
        await store.insertEvents([passage(person(1), 'in', t0)], t0 + 2 * HOUR);
        expect(await store.insideNow(t0 - DAY)).toEqual([]);
        await store.insertEvents([passage(person(1), 'in', t0 + 3 * HOUR)], t0 + 3 * HOUR);
        expect((await store.insideNow(t0 - DAY)).map((p) => p.ref)).toEqual([person(1)]);
      });

      it('lets an in older than the window expire', async () => {
        const store = await openWithFleet();
        await store.insertEvents([passage(person(1), 'in', t0), passage(person(2), 'in', t0 + DAY)], t0 + DAY);
        expect((await store.insideNow(t0 + DAY - 24 * HOUR + 1)).map((p) => p.ref)).toEqual([person(2)]);
      });

      it('takes a person out at once, refuses refs not inside, and lets them in again with a later passage', async () => {
        const store = await openWithFleet();
        await store.insertEvents([passage(person(1), 'in', t0), passage(person(2), 'in', t0)], t0);
        expect(await store.takeOut(person(1), t0 + MINUTE)).toBe(true);
        expect(await store.takeOut(person(1), t0 + MINUTE)).toBe(false);
        expect(await store.takeOut(person(7), t0 + MINUTE)).toBe(false);
        expect(await store.takeOut('not a ref', t0 + MINUTE)).toBe(false);
        expect((await store.insideNow(t0 - HOUR)).map((p) => p.ref)).toEqual([person(2)]);
        // An in stamped before the take-out (a late event) does not bring them back; a later one does.
        await store.insertEvents([passage(person(1), 'in', t0 + 30_000)], t0 + 2 * MINUTE);
        expect((await store.insideNow(t0 - HOUR)).map((p) => p.ref)).toEqual([person(2)]);
        await store.insertEvents([passage(person(1), 'in', t0 + 2 * MINUTE)], t0 + 2 * MINUTE);
        expect((await store.insideNow(t0 - HOUR)).map((p) => p.ref)).toEqual([person(1), person(2)]);
      });
    });

    describe('deleteEventsBefore (retention)', () => {
      const now = Date.UTC(2026, 11, 3, 12);
      const person = (n: number) => n.toString(16).padStart(64, '0');
      // Not on an hour: the hour the cutoff falls in keeps its newer part only.
      const cutoff = now - 35 * DAY + 17 * MINUTE;

      /** Calls until done, as the retention timer does; the events deleted, summed. */
      async function retain(store: CentralStore, cutoffMs: number, maxRows: number): Promise<number> {
        let deleted = 0;
        for (let call = 0; call < 10_000; call++) {
          const batch = await store.deleteEventsBefore(cutoffMs, maxRows);
          deleted += batch.events;
          if (batch.done) return deleted;
        }
        throw new Error('deleteEventsBefore never said done');
      }

      /** 120 events over 60 days on t1, t2 (A) and t3 (B), five people, three decisions, newest first. */
      async function openWithTwoMonths(): Promise<{ store: CentralStore; all: ScanEvent[] }> {
        const store = await openWithFleet();
        const seqs = new Map<string, number>();
        const all: ScanEvent[] = [];
        for (let i = 0; i < 120; i++) {
          const terminalId = ['t1', 't2', 't3'][i % 3]!;
          const seq = (seqs.get(terminalId) ?? 0) + 1;
          seqs.set(terminalId, seq);
          const tsMs = now - 60 * DAY + i * 12 * HOUR + (i % 7) * 5 * MINUTE;
          const event = scanEvent({ terminalId, checkpointCode: terminalId === 't3' ? CP_B : CP_A, seq, tsMs, decision: (['granted', 'refused', 'duplicate'] as const)[i % 3] });
          all.push({ ...event, credentialRef: person(i % 5) });
        }
        // Exactly on the cutoff: kept (only what is stamped before it goes).
        const onCutoff = scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: seqs.get('t1')! + 1, tsMs: cutoff });
        all.push(onCutoff);
        for (const batch of batches(all, 25, seededRandom(15))) await store.insertEvents(batch, now);
        return { store, all: all.sort(newestFirst) };
      }

      it('deletes exactly the events stamped before the cutoff, call after call until done, and keeps the rest', async () => {
        const { store, all } = await openWithTwoMonths();
        const kept = all.filter((e) => Date.parse(e.ts) >= cutoff);
        expect(kept.length).toBeGreaterThan(0);
        expect(kept.length).toBeLessThan(all.length);
        // A row-by-row store deletes 7 at most here; one that drops whole partitions may delete more at once.
        const first = await store.deleteEventsBefore(cutoff, 7);
        expect(first.events).toBeGreaterThan(0);
        expect(first.events + (first.done ? 0 : await retain(store, cutoff, 7))).toBe(all.length - kept.length);
        const page = await store.searchEvents({ limit: 1000 });
        expect(page.events.map((e) => e.id)).toEqual(kept.map((e) => e.id));
        // Nothing left to do: a second pass deletes nothing.
        expect(await store.deleteEventsBefore(cutoff, 7)).toEqual({ events: 0, done: true });
      });

      it('leaves nothing of the deleted events to a filter: by checkpoint, terminal, time, decision or person', async () => {
        const { store, all } = await openWithTwoMonths();
        await retain(store, cutoff, 1000);
        const kept = all.filter((e) => Date.parse(e.ts) >= cutoff);
        const ids = async (query: Omit<EventQuery, 'limit'>) => (await store.searchEvents({ ...query, limit: 1000 })).events.map((e) => e.id);
        expect(await ids({ checkpoint: CP_A })).toEqual(kept.filter((e) => e.checkpointCode === CP_A).map((e) => e.id));
        expect(await ids({ terminal: 't3' })).toEqual(kept.filter((e) => e.terminalId === 't3').map((e) => e.id));
        expect(await ids({ to: new Date(cutoff).toISOString() })).toEqual([]);
        expect(await ids({ decision: 'refused' })).toEqual(kept.filter((e) => e.decision === 'refused').map((e) => e.id));
        expect(await ids({ credentialRefs: [person(2)] })).toEqual(kept.filter((e) => e.credentialRef === person(2)).map((e) => e.id));
      });

      it('keeps checkpoint stats and histograms equal to counts over the events left', async () => {
        const { store, all } = await openWithTwoMonths();
        await retain(store, cutoff, 4);
        const kept = all.filter((e) => Date.parse(e.ts) >= cutoff);
        const count = (code: string, fromMs: number, toMs: number) =>
          kept.filter((e) => e.checkpointCode === code && Date.parse(e.ts) >= fromMs && Date.parse(e.ts) < toMs).length;
        // 40 days ago, "now" then: the month window reaches back past the cutoff.
        const then = now - 10 * DAY;
        const stats = await store.checkpointStats(CP_A, then);
        expect(stats).toMatchObject({ lastMonth: kept.filter((e) => e.checkpointCode === CP_A && Date.parse(e.ts) > then - 30 * DAY && Date.parse(e.ts) <= then).length });
        const from = cutoff - 3 * HOUR - 5 * MINUTE;
        const hours = await store.checkpointHistogram(CP_A, from, from + 2 * DAY, 'hour');
        expect(hours.map((bar) => bar.count)).toEqual(hours.map((bar) => count(CP_A, Math.max(bar.startMs, from), Math.min(bar.startMs + HOUR, from + 2 * DAY))));
        const days = await store.checkpointHistogram(CP_B, now - 60 * DAY, now, 'day');
        expect(days.reduce((sum, bar) => sum + bar.count, 0)).toBe(count(CP_B, now - 60 * DAY, now));
      });

      it('lets no passage older than the cutoff keep a person inside', async () => {
        const store = await openWithFleet();
        let seq = 0;
        const passage = (ref: string, direction: 'in' | 'out', tsMs: number): ScanEvent => ({
          ...scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: ++seq, tsMs, direction }),
          credentialRef: ref,
        });
        await store.insertEvents([passage(person(1), 'in', cutoff - HOUR), passage(person(2), 'in', cutoff - DAY), passage(person(2), 'in', cutoff + HOUR), passage(person(3), 'in', cutoff - 2 * HOUR)], now);
        await store.takeOut(person(3), cutoff - HOUR);
        expect((await store.insideNow(0)).map((p) => p.ref).sort()).toEqual([person(1), person(2)]);
        await retain(store, cutoff, 1);
        expect((await store.insideNow(0)).map((p) => p.ref)).toEqual([person(2)]);
        // A late event from before the cutoff does not bring them back beyond the next pass.
        await store.insertEvents([passage(person(1), 'in', cutoff - 30 * MINUTE)], now);
        await retain(store, cutoff, 1);
        expect((await store.insideNow(0)).map((p) => p.ref)).toEqual([person(2)]);
      });

      it('reports no gap where deleted events were, and the next events go on from the last number', async () => {
        const store = await openWithFleet();
        // t1: 1..10 old, 11..20 new but for 15 (a real gap); t2: every event old.
        const t1 = eventRun('t1', CP_A, 1, 20, cutoff - 11_000).filter((e) => e.seq !== 15);
        const t2 = eventRun('t2', CP_A, 1, 8, cutoff - 20 * DAY);
        await store.insertEvents([...t1, ...t2], now);
        expect(await store.gaps()).toEqual([{ terminalId: 't1', fromSeq: 15, toSeq: 15 }]);
        expect(await retain(store, cutoff, 3)).toBe(10 + 8);
        expect(await store.gaps()).toEqual([{ terminalId: 't1', fromSeq: 15, toSeq: 15 }]);
        await store.insertEvents([...eventRun('t1', CP_A, 21, 21, now - HOUR), ...eventRun('t2', CP_A, 9, 9, now - HOUR)], now);
        expect(await store.gaps()).toEqual([{ terminalId: 't1', fromSeq: 15, toSeq: 15 }]);
        expect((await store.fleet()).find((t) => t.terminalId === 't2')).toMatchObject({ lastSeq: 9, gaps: [] });
      });

      it('deletes the commands to terminals issued before the cutoff, acknowledged or not, and keeps the later ones', async () => {
        const store = await openWithFleet();
        const queue = async (issuedAtMs: number, ack: boolean) => {
          const id = uuidv7(issuedAtMs);
          await store.queueCommand({ id, terminalId: 't1', checkpointCode: CP_A, name: 'open', fields: { lane: 'in', reason: 'xe cứu thương', by: 'user:lan' }, issuedAtMs, expiresAtMs: issuedAtMs + 30_000, issuedBy: 'user:lan' });
          if (ack) await store.acknowledgeCommand('t1', { v: 1, id, name: 'open', outcome: 'executed', at: new Date(issuedAtMs + 500).toISOString() } as CommandAck, issuedAtMs + 600);
          return id;
        };
        const old = [await queue(cutoff - 20 * DAY, true), await queue(cutoff - 2 * DAY, false), await queue(cutoff - 1, true)];
        const kept = [await queue(cutoff, true), await queue(cutoff + HOUR, false)];
        await retain(store, cutoff, 1);
        for (const id of old) expect(await store.getCommand(id)).toBeNull();
        for (const id of kept) expect((await store.getCommand(id))?.id).toBe(id);
      });

      it('is done at once on an empty store, and refuses a batch of no rows', async () => {
        const store = await openWithFleet();
        expect(await store.deleteEventsBefore(now, 100)).toEqual({ events: 0, done: true });
        await expect(store.deleteEventsBefore(now, 0)).rejects.toThrow(/maxRows/);
      });
    });

    describe('membersByRefs', () => {
      it('answers an empty map for no refs and for refs nobody holds', async () => {
        const store = await open();
        expect(await store.membersByRefs([])).toEqual(new Map());
        expect(await store.membersByRefs(['ab'.repeat(32), 'cd'.repeat(32)])).toEqual(new Map());
      });
    });

    describe('commands to terminals (queueCommand, openCommands, commandSent, acknowledgeCommand)', () => {
      const t0 = Date.parse('2026-12-03T08:00:00Z');
      const iso = (ms: number) => new Date(ms).toISOString();
      const command = (more: Partial<NewTerminalCommand> = {}): NewTerminalCommand => ({
        id: uuidv7(),
        terminalId: 't1',
        checkpointCode: CP_A,
        name: 'open',
        fields: { lane: 'in', reason: 'xe cứu thương', by: 'cli:root' },
        issuedAtMs: t0,
        expiresAtMs: t0 + 30_000,
        issuedBy: 'cli:root',
        ...more,
      });
      const executed = (id: string, more: Partial<CommandAck> = {}): CommandAck => ({ v: 1, id, name: 'open', outcome: 'executed', at: iso(t0 + 500), ...more }) as CommandAck;

      it('keeps a queued command as given, not yet sent or acknowledged, and refuses its id a second time', async () => {
        const store = await openWithFleet();
        const queued = command();
        await store.queueCommand(queued);
        expect(await store.getCommand(queued.id)).toEqual({
          id: queued.id, terminalId: 't1', checkpointCode: CP_A, name: 'open', fields: { lane: 'in', reason: 'xe cứu thương', by: 'cli:root' },
          issuedAt: iso(t0), expiresAt: iso(t0 + 30_000), issuedBy: 'cli:root', attempts: 0, lastSentAt: null, ack: null,
        } satisfies TerminalCommand);
        await expect(store.queueCommand({ ...command(), id: queued.id, name: 'ping' })).rejects.toMatchObject({ code: 'command-exists' });
        expect((await store.getCommand(queued.id))?.name).toBe('open');
        expect(await store.getCommand(randomUUID())).toBeNull();
      });

      it('lists the open commands by id (issue order for UUIDv7): never an expired one, never an acknowledged one', async () => {
        const store = await openWithFleet();
        const [a, b, c] = [uuidv7(t0 - 3000), uuidv7(t0 - 2000), uuidv7(t0 - 1000)];
        await store.queueCommand(command({ id: c!, issuedAtMs: t0 - 1000, terminalId: 't3', checkpointCode: CP_B, name: 'ping', fields: {} }));
        await store.queueCommand(command({ id: a!, issuedAtMs: t0 - 3000, expiresAtMs: t0 + 10_000 }));
        await store.queueCommand(command({ id: b!, issuedAtMs: t0 - 2000, name: 'sync-lists', fields: {} }));
        const answered = command({ id: uuidv7(t0 - 1500), issuedAtMs: t0 - 1500 });
        await store.queueCommand(answered);
        expect(await store.acknowledgeCommand('t1', executed(answered.id), t0)).toBe(true);

        expect((await store.openCommands(t0)).map((o) => o.id)).toEqual([a, b, c]);
        // Open up to the expiry itself, not at it.
        expect((await store.openCommands(t0 + 9_999)).map((o) => o.id)).toEqual([a, b, c]);
        expect((await store.openCommands(t0 + 10_000)).map((o) => o.id)).toEqual([b, c]);
        expect(await store.openCommands(t0 + 30_000)).toEqual([]);
        // Expired, but still there to read with what became of it.
        expect(await store.getCommand(a!)).toMatchObject({ ack: null, attempts: 0 });
      });

      it(`pages through more than ${maxOpenCommands} open commands by the last id seen`, async () => {
        const store = await openWithFleet();
        const ids = Array.from({ length: maxOpenCommands + 5 }, (_, i) => uuidv7(t0 - 10_000 + i));
        for (const id of ids) await store.queueCommand(command({ id, name: 'ping', fields: {} }));
        const first = await store.openCommands(t0);
        expect(first.map((o) => o.id)).toEqual(ids.slice(0, maxOpenCommands));
        expect((await store.openCommands(t0, { afterId: first.at(-1)!.id })).map((o) => o.id)).toEqual(ids.slice(maxOpenCommands));
        expect(await store.openCommands(t0, { afterId: ids.at(-1)! })).toEqual([]);
      });

      it("narrows the open commands to one terminal's, or to those issued since a time", async () => {
        const store = await openWithFleet();
        const early = command({ id: uuidv7(t0 - 5000), issuedAtMs: t0 - 5000 });
        const late = command({ id: uuidv7(t0 - 1000), issuedAtMs: t0 - 1000 });
        const t3 = command({ id: uuidv7(t0 - 500), issuedAtMs: t0 - 500, terminalId: 't3', checkpointCode: CP_B });
        for (const queued of [early, late, t3]) await store.queueCommand(queued);
        const ids = async (filter: Parameters<CentralStore['openCommands']>[1]) => (await store.openCommands(t0, filter)).map((o) => o.id);
        expect(await ids({ terminalId: 't1' })).toEqual([early.id, late.id]);
        expect(await ids({ terminalId: 't2' })).toEqual([]);
        expect(await ids({ issuedSinceMs: t0 - 1000 })).toEqual([late.id, t3.id]);
        expect(await ids({ terminalId: 't1', issuedSinceMs: t0 - 1000 })).toEqual([late.id]);
        expect(await ids({ terminalId: 't1', afterId: early.id })).toEqual([late.id]);
        expect(await store.acknowledgeCommand('t1', executed(late.id), t0)).toBe(true);
        expect(await ids({ terminalId: 't1' })).toEqual([early.id]);
      });

      it('counts each delivery, and ignores one for an unknown id', async () => {
        const store = await openWithFleet();
        const queued = command();
        await store.queueCommand(queued);
        await store.commandSent(queued.id, t0 + 100);
        await store.commandSent(queued.id, t0 + 5100);
        await store.commandSent(randomUUID(), t0 + 5100);
        expect(await store.getCommand(queued.id)).toMatchObject({ attempts: 2, lastSentAt: iso(t0 + 5100), ack: null });
        expect((await store.openCommands(t0 + 6000)).map((o) => o.id)).toEqual([queued.id]);
      });

      it('records the first ack of the terminal the command was for, and nothing else', async () => {
        const store = await openWithFleet();
        const queued = command();
        await store.queueCommand(queued);
        const eventId = randomUUID();
        expect(await store.acknowledgeCommand('t2', executed(queued.id), t0 + 600)).toBe(false); // another terminal's command
        expect(await store.acknowledgeCommand('t1', executed(randomUUID()), t0 + 600)).toBe(false); // unknown id
        expect(await store.acknowledgeCommand('t1', executed(queued.id, { eventId }), t0 + 700)).toBe(true);
        // The answer to a copy sent again before the first ack arrived: harmless.
        expect(await store.acknowledgeCommand('t1', { v: 1, id: queued.id, name: 'open', outcome: 'ignored', reason: 'duplicate', at: iso(t0 + 900) }, t0 + 950)).toBe(false);
        expect((await store.getCommand(queued.id))?.ack).toEqual({ outcome: 'executed', reason: null, eventId, terminalAt: iso(t0 + 500), receivedAt: iso(t0 + 700) });
        expect(await store.openCommands(t0 + 1000)).toEqual([]);
      });

      it('records an ignored outcome with its reason, and an ack that arrives after the expiry', async () => {
        const store = await openWithFleet();
        const refused = command({ fields: { lane: 'side-door' } });
        const late = command({ name: 'ping', fields: {} });
        await store.queueCommand(refused);
        await store.queueCommand(late);
        expect(await store.acknowledgeCommand('t1', { v: 1, id: refused.id, name: 'open', outcome: 'ignored', reason: 'unknown-lane', at: iso(t0 + 1) }, t0 + 2)).toBe(true);
        expect((await store.getCommand(refused.id))?.ack).toEqual({ outcome: 'ignored', reason: 'unknown-lane', eventId: null, terminalAt: iso(t0 + 1), receivedAt: iso(t0 + 2) });
        expect(await store.acknowledgeCommand('t1', executed(late.id, { name: 'ping' }), t0 + 31_000)).toBe(true);
        expect((await store.getCommand(late.id))?.ack).toMatchObject({ outcome: 'executed', eventId: null, receivedAt: iso(t0 + 31_000) });
      });
    });
  });
}

/** A person as the registry holds them, for seeding a store in describeMemberJoin. */
export interface RegisteredMember {
  /** Credential ref of the ID number, 64 hex digits. */
  readonly idRef: string;
  readonly cards: readonly { readonly ref: string; readonly revoked: boolean }[];
  readonly summary: MemberSummary;
}

/**
 * The registry join the in/out log relies on. The registry is not written through
 * CentralStore (`qrgate members` works on the database directly), so each implementation
 * brings `register`, its own way to put a person in, as it brings `makeStore`.
 */
export function describeMemberJoin(
  name: string,
  makeStore: () => Promise<{ store: CentralStore; register: (member: RegisteredMember) => Promise<void> }>,
): void {
  describe(`CentralStore contract, membersByRefs: ${name}`, () => {
    const stores: CentralStore[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    const ref = (n: number) => n.toString(16).padStart(64, '0');
    const lan: RegisteredMember = {
      idRef: ref(1),
      cards: [
        { ref: ref(11), revoked: true },
        { ref: ref(12), revoked: false },
      ],
      summary: { name: 'Nguyễn Thị Lan', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Thành phố Huế', unit: 'Công ty May Huế', scope: 'site-a', idMasked: '*********001', status: 'allow' },
    };
    const hung: RegisteredMember = {
      idRef: ref(2),
      cards: [],
      summary: { name: 'Trần Văn Hùng', phone: '+84914000111', address: '', unit: 'Tổ dân phố 5', scope: 'site-b', idMasked: '******002', status: 'check' },
    };

    async function seeded(): Promise<CentralStore> {
      const { store, register } = await makeStore();
      stores.push(store);
      await store.migrate();
      await register(lan);
      await register(hung);
      return store;
    }

    it('finds a person by their ID-number ref and by every card, revoked ones too, in one call', async () => {
      const store = await seeded();
      const found = await store.membersByRefs([ref(1), ref(11), ref(12), ref(2), ref(99)]);
      expect(found).toEqual(
        new Map([
          [ref(1), lan.summary],
          [ref(11), lan.summary],
          [ref(12), lan.summary],
          [ref(2), hung.summary],
        ]),
      );
    });

    it('takes the refs of one member as one person for insideNow: in with the ID card, out with a qrgate card', async () => {
      const store = await seeded();
      await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
      const t0 = Date.parse('2026-12-03T01:00:00Z');
      const at = (credentialRef: string, direction: 'in' | 'out', seq: number): ScanEvent => ({
        ...scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq, tsMs: t0 + seq * 60_000, direction }),
        credentialRef,
      });
      await store.insertEvents([at(ref(1), 'in', 1), at(ref(12), 'out', 2), at(ref(2), 'in', 3), at(ref(77), 'in', 4)], t0);
      expect((await store.insideNow(t0 - 3_600_000)).map((p) => p.ref)).toEqual([ref(77), ref(2)]);
      await store.insertEvents([at(ref(11), 'in', 5)], t0);
      expect((await store.insideNow(t0 - 3_600_000)).map((p) => p.ref)).toEqual([ref(11), ref(77), ref(2)]);
    });

    it('answers a ref repeated on a page once, and leaves unknown refs out', async () => {
      const store = await seeded();
      const found = await store.membersByRefs([ref(2), ref(2), ref(3), ref(2)]);
      expect([...found.entries()]).toEqual([[ref(2), hung.summary]]);
    });
  });
}
