import { describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../../protocol/event.js';
import { createCentralStore } from '../../../broker/config.js';
import { monthStartMs, partitionName } from '../../../broker/store/postgres/pgPartitions.js';
import { pgSchemaVersion } from '../../../broker/store/postgres/pgSchema.js';
import { PostgresCentralStore } from '../../../broker/store/postgres/pgStore.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { registerPgMember, usePostgresDatabase, withSchemaClient } from '../../helpers/postgres.js';
import { describeCentralStore, describeMemberJoin, expectedGaps } from './centralStoreContract.js';
import { bruteHistogram, itAgreesWithBruteForce } from './rollupProperty.js';
import { batches, CP_A, eventRun, scanEvent, seededRandom, shuffled } from './scanEvents.js';

const db = usePostgresDatabase();

/**
 * Each store gets a schema of its own in this file's database, holding no rows: the fresh,
 * empty storage the contract asks for, even for a test that opens two stores at once. A
 * schema is reused once its store is closed.
 */
async function cleanStore(): Promise<PostgresCentralStore> {
  const { schema, release } = await db.cleanSchema();
  return new (class extends PostgresCentralStore {
    private released = false;
    override async close(): Promise<void> {
      await super.close();
      if (!this.released) release();
      this.released = true;
    }
  })({ url: db.url(), schema, logger: silentLogger(), synchronousCommit: 'off' });
}

describeCentralStore('postgres', cleanStore);

// Stats and histograms at random "now"s against a brute-force count: the contract's own stats
// cases fall on whole hours, where the partial-hour edges are empty. Fewer runs than SQLite's
// 40: every call here is a round trip.
describe('checkpoint stats from the hourly rollup, postgres', () => {
  itAgreesWithBruteForce(cleanStore, 12);
});

describeMemberJoin('postgres', async () => {
  const schema = db.newSchema();
  return {
    store: new PostgresCentralStore({ url: db.url(), schema, logger: silentLogger() }),
    register: (member) => registerPgMember(db.url(), schema, member),
  };
});

const HASH = 'scrypt$hash';
const HOUR = 3_600_000;

async function opened(schema: string, logger = silentLogger()): Promise<PostgresCentralStore> {
  const store = new PostgresCentralStore({ url: db.url(), schema, logger });
  await store.migrate();
  return store;
}

async function withFleet(store: PostgresCentralStore): Promise<void> {
  await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
  for (const terminalId of ['t1', 't2']) await store.addTerminal({ terminalId, checkpointCode: CP_A, secretHash: HASH, listScopes: ['default'] });
}

/** The events partitions of `schema`, by name. */
async function partitions(schema: string): Promise<string[]> {
  return withSchemaClient(db.url(), schema, async (client) => {
    const { rows } = await client.query<{ name: string }>(`SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'events'::regclass ORDER BY 1`);
    return rows.map((row) => row.name);
  });
}

describe('PostgresCentralStore', () => {
  it('migrates once when two centrals start at once, recording each version, with this and next month partitioned', async () => {
    const schema = db.newSchema();
    const now = Date.UTC(2026, 11, 20, 12);
    const [a, b] = [0, 1].map(() => new PostgresCentralStore({ url: db.url(), schema, logger: silentLogger(), nowMs: () => now }));
    await Promise.all([a!.migrate(), b!.migrate()]);
    const versions = await withSchemaClient(db.url(), schema, async (client) => (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows);
    expect(versions.map((row) => row.version)).toEqual(Array.from({ length: pgSchemaVersion }, (_, i) => i + 1));
    expect(await partitions(schema)).toEqual([partitionName(monthStartMs(now)), partitionName(Date.UTC(2027, 0, 1))]);
    await a!.close();
    await b!.close();
  });

  it('stores events of a month that has no partition yet, from a clock in 1970 to one years ahead, and again after one was dropped', async () => {
    const schema = db.newSchema();
    const store = await opened(schema);
    await withFleet(store);
    const old = eventRun('t1', CP_A, 1, 2, 0);
    const ahead = eventRun('t2', CP_A, 1, 2, Date.UTC(2031, 6, 15));
    expect((await store.insertEvents([...old, ...ahead], Date.now())).inserted).toBe(4);
    expect(await partitions(schema)).toEqual(expect.arrayContaining(['events_p197001', 'events_p203107']));
    expect((await store.searchEvents({ limit: 10 })).events.map((e) => e.id).sort()).toEqual([...old, ...ahead].map((e) => e.id).sort());
    // Retention (or an operator) drops a month the store has cached: the next insert there makes it again.
    await withSchemaClient(db.url(), schema, (client) => client.query('DROP TABLE events_p197001'));
    const later = eventRun('t1', CP_A, 3, 3, 0);
    expect(await store.insertEvents(later, Date.now())).toEqual({ inserted: 1, duplicates: 0, stored: later });
    expect(await partitions(schema)).toContain('events_p197001');
    await store.close();
  });

  it('keeps one terminal’s sequence, rollup and presence right with two centrals storing overlapping batches at once', async () => {
    const schema = db.newSchema();
    const [a, b] = await Promise.all([opened(schema), opened(schema)]);
    await withFleet(a);
    const now = Date.UTC(2026, 11, 3, 12);
    const random = seededRandom(15);
    const person = (n: number) => n.toString(16).padStart(64, '0');
    // 360 events of t1 and t2, one ms apart within the last hour, 20 people going in and out.
    const seqs = { t1: 0, t2: 0 };
    const events: ScanEvent[] = Array.from({ length: 360 }, (_, i) => {
      const terminalId = i % 3 === 0 ? 't2' : 't1';
      return {
        ...scanEvent({ terminalId, checkpointCode: CP_A, seq: ++seqs[terminalId], tsMs: now - 360 + i, direction: random(2) === 0 ? 'in' : 'out' }),
        credentialRef: person(random(20)),
      };
    });
    const lost = new Set(events.filter(() => random(12) === 0).map((e) => e.id));
    const delivered = events.filter((e) => !lost.has(e.id));
    // Each central gets every batch in its own order, plus redeliveries of the other's: every
    // event is offered twice or more, concurrently, in small batches that interleave.
    const work = batches(delivered, 8, random);
    const writer = async (store: PostgresCentralStore, order: ScanEvent[][]) => {
      let inserted = 0;
      for (const batch of order) inserted += (await store.insertEvents([...batch, ...pick(delivered, 2, random)], now)).inserted;
      return inserted;
    };
    const [insertedA, insertedB] = await Promise.all([writer(a, work), writer(b, shuffled(work, random))]);
    expect(insertedA + insertedB).toBe(delivered.length);

    const stored = await a.searchEvents({ limit: 1000 });
    expect(stored.events.map((e) => e.id).sort()).toEqual(delivered.map((e) => e.id).sort());
    for (const terminalId of ['t1', 't2'] as const) {
      const got = new Set(delivered.filter((e) => e.terminalId === terminalId).map((e) => e.seq));
      expect(await b.gaps(terminalId), terminalId).toEqual(expectedGaps(terminalId, got));
      expect((await b.fleet()).find((t) => t.terminalId === terminalId)?.lastSeq).toBe(Math.max(...got));
    }
    // The rollup counted each stored event once: the last hour is all whole-hour rows and edges.
    expect((await a.checkpointStats(CP_A, now))?.lastHour).toBe(delivered.length);
    expect((await a.checkpointHistogram(CP_A, now - HOUR, now + 1, 'hour')).reduce((n, bar) => n + bar.count, 0)).toBe(delivered.length);
    // Presence: each person's newest delivered passage decides.
    const last = new Map<string, ScanEvent>();
    for (const e of delivered) last.set(e.credentialRef!, e);
    const inside = [...last.values()].filter((e) => e.direction === 'in').sort((x, y) => Date.parse(y.ts) - Date.parse(x.ts));
    expect((await b.insideNow(now - HOUR)).map((p) => [p.ref, p.eventId])).toEqual(inside.map((e) => [e.credentialRef, e.id]));
    await a.close();
    await b.close();
  });

  it('retention drops the months wholly before the cutoff, rollup hours and all, and batches the month the cutoff cuts', async () => {
    const schema = db.newSchema();
    const store = await opened(schema);
    await withFleet(store);
    const person = (n: number) => n.toString(16).padStart(64, '0');
    // t1: one event every 5 hours from August to late November 2026, but for seq 7 (a real gap, in August).
    const start = Date.UTC(2026, 7, 1, 3);
    const all = Array.from({ length: 560 }, (_, i) => ({
      ...scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: i + 1, tsMs: start + i * 5 * HOUR + (i % 11) * 60_000, decision: (['granted', 'refused', 'duplicate'] as const)[i % 3] }),
      credentialRef: person(i % 9),
    })).filter((e) => e.seq !== 7);
    for (const batch of batches(all, 40, seededRandom(15))) await store.insertEvents(batch, Date.UTC(2026, 11, 1));
    const cutoff = Date.UTC(2026, 9, 14, 5, 17);
    const kept = all.filter((e) => Date.parse(e.ts) >= cutoff);
    expect(await store.gaps()).toEqual([{ terminalId: 't1', fromSeq: 7, toSeq: 7 }]);

    // August and September go whole, each after its rollup hours, 5 rows a call (here one
    // event an hour each): the partition stays until its hours are gone, so the drop, which
    // holds every writer, deletes almost nothing under its lock.
    const wholeMonths = all.filter((e) => Date.parse(e.ts) < Date.UTC(2026, 9, 1)).length;
    const august = all.filter((e) => Date.parse(e.ts) < Date.UTC(2026, 8, 1)).length;
    const rollupRows = async (fromMs: number, toMs: number) =>
      Number(await withSchemaClient(db.url(), schema, async (client) => (await client.query<{ n: string }>('SELECT count(*) AS n FROM checkpoint_hourly_counts WHERE hour_ms >= $1 AND hour_ms < $2', [fromMs, toMs])).rows[0]!.n));
    expect(await store.deleteEventsBefore(cutoff, 5)).toEqual({ events: 5, done: false });
    expect(await partitions(schema)).toContain('events_p202608');
    expect(await rollupRows(Date.UTC(2026, 7, 1), Date.UTC(2026, 8, 1))).toBe(august - 5);
    let deleted = 5;
    let calls = 1;
    while ((await partitions(schema)).includes('events_p202609')) {
      const batch = await store.deleteEventsBefore(cutoff, 5);
      expect(batch.done).toBe(false);
      deleted += batch.events;
      calls++;
    }
    expect(await partitions(schema)).not.toContain('events_p202608');
    expect(await partitions(schema)).toContain('events_p202610');
    // The call that dropped September went on to 5 of October's events.
    expect(deleted).toBe(wholeMonths + 5);
    expect(calls).toBeGreaterThanOrEqual(Math.floor(wholeMonths / 5));
    for (let batch = await store.deleteEventsBefore(cutoff, 5); ; batch = await store.deleteEventsBefore(cutoff, 5)) {
      expect(batch.events).toBeLessThanOrEqual(5);
      deleted += batch.events;
      if (batch.done) break;
    }
    expect(deleted).toBe(all.length - kept.length);
    expect((await store.searchEvents({ limit: 1000 })).events.map((e) => e.id).sort()).toEqual(kept.map((e) => e.id).sort());

    // The rollup agrees with the events left, day by day over the four months and hour by hour around the cutoff.
    const bars = async (fromMs: number, toMs: number, bucket: 'hour' | 'day') => (await store.checkpointHistogram(CP_A, fromMs, toMs, bucket)).map((b) => [b.startMs, b.count]);
    expect(await bars(start, Date.UTC(2026, 11, 1), 'day')).toEqual(bruteHistogram(kept, CP_A, start, Date.UTC(2026, 11, 1), 'day').map((b) => [b.startMs, b.count]));
    expect(await bars(cutoff - 6 * HOUR, cutoff + 6 * HOUR, 'hour')).toEqual(bruteHistogram(kept, CP_A, cutoff - 6 * HOUR, cutoff + 6 * HOUR, 'hour').map((b) => [b.startMs, b.count]));
    const rollupTotal = await withSchemaClient(db.url(), schema, async (client) => (await client.query<{ n: string }>('SELECT sum(count) AS n FROM checkpoint_hourly_counts')).rows[0]!.n);
    expect(Number(rollupTotal)).toBe(kept.length);

    // No passage before the cutoff is left in presence; the sequence goes on with no new gap.
    const presenceTs = await withSchemaClient(db.url(), schema, async (client) => (await client.query<{ ts: string }>('SELECT min(ts) AS ts FROM presence')).rows[0]!.ts);
    expect(Number(presenceTs)).toBeGreaterThanOrEqual(cutoff);
    await store.insertEvents(eventRun('t1', CP_A, 561, 561, Date.UTC(2026, 10, 30)), Date.UTC(2026, 11, 1));
    expect(await store.gaps()).toEqual([{ terminalId: 't1', fromSeq: 7, toSeq: 7 }]);

    // A late event from a dropped month is stored (its month made again), and goes with the next pass.
    const late = scanEvent({ terminalId: 't2', checkpointCode: CP_A, seq: 1, tsMs: Date.UTC(2026, 7, 20) });
    expect((await store.insertEvents([late], Date.UTC(2026, 11, 1))).inserted).toBe(1);
    expect(await store.deleteEventsBefore(cutoff, 5)).toEqual({ events: 1, done: true });
    expect(await partitions(schema)).not.toContain('events_p202608');
    expect((await store.checkpointHistogram(CP_A, Date.UTC(2026, 7, 1), Date.UTC(2026, 8, 1), 'day')).reduce((n, b) => n + b.count, 0)).toBe(0);
    await store.close();
  });

  it('keeps the rollup equal to the events left when retention drops a month while another central stores into it', async () => {
    const schema = db.newSchema();
    const [a, b] = await Promise.all([opened(schema), opened(schema)]);
    await withFleet(a);
    const cutoff = Date.UTC(2026, 9, 1, 7);
    // t1 and t2 store late events, in batches, into September (wholly before the cutoff: its
    // partition is dropped and made again under them) and October (the boundary month).
    const random = seededRandom(15);
    const events = ['t1', 't2'].flatMap((terminalId) =>
      Array.from({ length: 240 }, (_, i) => scanEvent({ terminalId, checkpointCode: CP_A, seq: i + 1, tsMs: Date.UTC(2026, 8, 20) + i * HOUR + random(HOUR), decision: (['granted', 'refused', 'duplicate'] as const)[i % 3] })),
    );
    const writer = async () => {
      for (const batch of batches(shuffled(events, random), 12, random)) await b.insertEvents(batch, Date.UTC(2026, 11, 1));
    };
    const retention = async () => {
      for (let pass = 0; pass < 30; pass++) while (!(await a.deleteEventsBefore(cutoff, 7)).done);
    };
    await Promise.all([writer(), retention()]);
    while (!(await a.deleteEventsBefore(cutoff, 50)).done);

    const kept = events.filter((e) => Date.parse(e.ts) >= cutoff);
    expect((await a.searchEvents({ limit: 1000 })).events.map((e) => e.id).sort()).toEqual(kept.map((e) => e.id).sort());
    const counts = await withSchemaClient(db.url(), schema, async (client) =>
      (await client.query<{ rollup: string; events: string }>('SELECT (SELECT coalesce(sum(count), 0) FROM checkpoint_hourly_counts) AS rollup, (SELECT count(*) FROM events) AS events')).rows[0]!,
    );
    expect({ rollup: Number(counts.rollup), events: Number(counts.events) }).toEqual({ rollup: kept.length, events: kept.length });
    const from = Date.UTC(2026, 8, 20);
    const to = Date.UTC(2026, 9, 5);
    expect((await a.checkpointHistogram(CP_A, from, to, 'hour')).map((bar) => [bar.startMs, bar.count])).toEqual(
      bruteHistogram(kept, CP_A, from, to, 'hour').map((bar) => [bar.startMs, bar.count]),
    );
    await a.close();
    await b.close();
  });

  it('refuses a database written by a newer qrgate and leaves it untouched', async () => {
    const schema = db.newSchema();
    await (await opened(schema)).close();
    await withSchemaClient(db.url(), schema, (client) => client.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')"));
    const store = new PostgresCentralStore({ url: db.url(), schema, logger: silentLogger() });
    await expect(store.migrate()).rejects.toMatchObject({ code: 'schema-too-new' });
    await store.close();
    const max = await withSchemaClient(db.url(), schema, async (client) => (await client.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]!.v);
    expect(max).toBe(99);
  });

  it('is what createCentralStore builds from a config naming postgres (the public schema of its database)', async () => {
    const store = await createCentralStore({ store: { type: 'postgres', url: db.url(), schema: 'public', retentionDays: null }, dataDir: '/nonexistent' }, { logger: silentLogger() });
    try {
      expect(store).toBeInstanceOf(PostgresCentralStore);
      await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
      expect(await withSchemaClient(db.url(), 'public', async (client) => (await client.query('SELECT code FROM checkpoints')).rows)).toEqual([{ code: CP_A }]);
    } finally {
      await store.close();
    }
  });

  it('refuses calls before migrate() and after close(), with a code', async () => {
    const store = new PostgresCentralStore({ url: db.url(), schema: db.newSchema(), logger: silentLogger() });
    await expect(store.listCheckpoints()).rejects.toMatchObject({ code: 'store-closed' });
    await store.close();
    await expect(store.migrate()).rejects.toMatchObject({ code: 'store-closed' });
  });

  it('says at open whether the server vacuums, and warns when it does not', async () => {
    const log = captureLogger();
    const store = await opened(db.newSchema(), log.logger);
    await store.close();
    const server = await withSchemaClient(db.url(), 'public', async (client) => (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum);
    expect(log.messages('store.opened')).toMatchObject([{ autovacuum: server }]);
    expect(log.messages('store.autovacuum-off')).toHaveLength(server === 'on' ? 0 : 1);
  });

  it('logs a terminal that reuses sequence numbers', async () => {
    const log = captureLogger();
    const store = await opened(db.newSchema(), log.logger);
    await store.insertEvents(eventRun('t1', CP_A, 1, 5, 0), 0);
    await store.insertEvents([scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: 2, tsMs: 9_000 })], 0);
    expect(log.messages('store.sequence-reused')).toMatchObject([{ terminalId: 't1', events: 1 }]);
    await store.close();
  });

  it('fails the read of list scopes edited into something that is not a scope, rather than widen the ACL', async () => {
    const schema = db.newSchema();
    const store = await opened(schema);
    await withFleet(store);
    await withSchemaClient(db.url(), schema, async (client) => {
      await client.query(`UPDATE terminals SET list_scopes = '["#"]' WHERE terminal_id = 't1'`);
      await expect(client.query(`UPDATE terminals SET list_scopes = '"site-a"' WHERE terminal_id = 't1'`)).rejects.toThrow(/check constraint/);
    });
    await expect(store.getTerminalCredentials('t1')).rejects.toThrow('terminal t1: stored list scopes ["#"] are not list scopes');
    await store.close();
  });
});

function pick<T>(items: readonly T[], count: number, random: (max: number) => number): T[] {
  return Array.from({ length: count }, () => items[random(items.length)]!);
}
