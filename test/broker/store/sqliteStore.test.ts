import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allEdgeCountsSql, allHourlyDaySql, edgeCountsSql, histogramSql, hourlyHistogramSql, hourlyStatsSql, searchSql, type SearchShape } from '../../../broker/store/sqliteEventReader.js';
import { openCentralDb, presenceMigration, schemaVersion } from '../../../broker/store/sqliteSchema.js';
import { insideSql } from '../../../broker/store/sqlitePresence.js';
import { chunkRows, deleteOldestEventsSql, deleteOldPresenceSql, SqliteRetention } from '../../../broker/store/sqliteRetention.js';
import { rebuildHourlyCounts } from '../../../broker/store/sqliteHourlyCounts.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { WorkerCentralStore } from '../../../broker/store/worker/workerCentralStore.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { describeCentralStore } from './centralStoreContract.js';
import { CP_A, eventRun, scanEvent } from './scanEvents.js';

const tempDir = useTempDir('qrgate-central-');

describeCentralStore('sqlite', async () => new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() }));
// What the broker, ACL and API tests run on (test/helpers/sqliteStore.ts): its hooks idle, it is the real store.
describeCentralStore('TestCentralStore', async () => new TestCentralStore(join(tempDir(), 'central.db')));
// What `qrgate central` runs: the same SQLite store, answered from its worker thread.
describeCentralStore('sqlite in a worker thread', async () => new WorkerCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() }));
describeCentralStore(
  'sqlite, synchronous FULL',
  async () => new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger(), synchronous: 'FULL' }),
);

describe('SqliteCentralStore', () => {
  const HASH = 'scrypt$hash';

  async function opened(file: string, logger = silentLogger()): Promise<SqliteCentralStore> {
    const store = new SqliteCentralStore({ file, logger });
    await store.migrate();
    return store;
  }

  it('keeps everything across a close and a reopen, creating the data folder', async () => {
    const file = join(tempDir(), 'nested', 'data', 'central.db');
    const first = await opened(file);
    await first.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
    await first.addTerminal({ terminalId: 't1', checkpointCode: CP_A, secretHash: HASH, listScopes: ['default'] });
    const events = eventRun('t1', CP_A, 1, 6, 0);
    await first.insertEvents([...events.slice(0, 3), events[5]!], 1000);
    await first.close();

    const second = await opened(file);
    expect(await second.getTerminalCredentials('t1')).toMatchObject({ checkpointCode: CP_A });
    expect(await second.gaps()).toEqual([{ terminalId: 't1', fromSeq: 4, toSeq: 5 }]);
    expect(await second.insertEvents(events.slice(3), 2000)).toEqual({ inserted: 2, duplicates: 1, stored: events.slice(3, 5) });
    expect(await second.gaps()).toEqual([]);
    await second.close();
  });

  it('is a WAL database another process can use at the same time (the provisioning CLI)', async () => {
    const file = join(tempDir(), 'central.db');
    const central = await opened(file);
    const cli = await opened(file);
    await cli.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'in', confirm: 'auto' });
    await cli.addTerminal({ terminalId: 't1', checkpointCode: CP_A, secretHash: HASH, listScopes: ['default'] });
    expect(await central.getTerminalCredentials('t1')).toMatchObject({ terminalId: 't1' });
    await cli.close();
    await central.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('refuses calls before migrate() and after close(), with a code', async () => {
    const store = new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() });
    await expect(store.listCheckpoints()).rejects.toMatchObject({ code: 'store-closed' });
    await store.close();
    await expect(store.migrate()).rejects.toMatchObject({ code: 'store-closed' });
  });

  it('refuses a database written by a newer qrgate and leaves it untouched', async () => {
    const file = join(tempDir(), 'central.db');
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    const store = new SqliteCentralStore({ file, logger: silentLogger() });
    await expect(store.migrate()).rejects.toMatchObject({ code: 'schema-too-new' });
    await store.close();
    const after = new Database(file);
    expect(after.pragma('user_version', { simple: true })).toBe(99);
    expect(after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });
    after.close();
  });

  it('upgrades a schema 2 database: terminals added before keep unknown list scopes (null), new ones get theirs', async () => {
    const file = join(tempDir(), 'central.db');
    await (await opened(file)).close();
    // The terminals table as schema 2 left it, with a terminal added back then.
    const old = new Database(file);
    old.exec('ALTER TABLE terminals DROP COLUMN list_scopes');
    undoSchema4AndLater(old);
    old.pragma('user_version = 2');
    old.prepare("INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, 'Gate A', 'both', 'auto', 0)").run(CP_A);
    old.prepare("INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, created_at_ms) VALUES ('old-1', ?, ?, 0)").run(CP_A, HASH);
    old.close();

    const store = await opened(file);
    expect(await store.getTerminalCredentials('old-1')).toEqual({ terminalId: 'old-1', checkpointCode: CP_A, secretHash: HASH, removedAt: null, listScopes: null });
    await store.addTerminal({ terminalId: 'new-1', checkpointCode: CP_A, secretHash: HASH, listScopes: ['site-a'] });
    expect((await store.getTerminalCredentials('new-1'))?.listScopes).toEqual(['site-a']);
    await store.close();
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(schemaVersion);
    after.close();
  });

  it('upgrades a schema 3 database: checkpoints created before get no unit, no position, not a branch', async () => {
    const file = join(tempDir(), 'central.db');
    await (await opened(file)).close();
    const old = new Database(file);
    undoSchema4AndLater(old);
    old.pragma('user_version = 3');
    old.prepare("INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, 'Gate A', 'both', 'auto', 0)").run(CP_A);
    old.close();

    const store = await opened(file);
    expect(await store.getCheckpoint(CP_A)).toEqual({
      code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto', unit: '', latitude: null, longitude: null, branch: false,
      createdAt: new Date(0).toISOString(), retiredAt: null,
    });
    await store.close();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(schemaVersion);
    // The ranges hold for a hand-edited row too.
    expect(() => raw.prepare(`UPDATE checkpoints SET latitude = 91 WHERE code = ?`).run(CP_A)).toThrow(/CHECK constraint/);
    expect(() => raw.prepare(`UPDATE checkpoints SET longitude = -180.5 WHERE code = ?`).run(CP_A)).toThrow(/CHECK constraint/);
    raw.close();
  });

  it('fills the credential ref column of events stored before it existed, so a filter by ref finds them', async () => {
    const file = join(tempDir(), 'central.db');
    await (await opened(file)).close();
    const old = new Database(file);
    undoSchema4AndLater(old);
    old.pragma('user_version = 3');
    const [withRef, withoutRef] = eventRun('t1', CP_A, 1, 2, 0);
    const stored = [
      { ...withRef!, credentialRef: 'cd'.repeat(32) },
      { ...withoutRef!, credentialType: 'unknown' as const, credentialRef: null },
    ];
    const insert = old.prepare(
      `INSERT INTO events (id, checkpoint_code, terminal_id, lane, direction, decision, reason, credential_type, seq, boot_id, ts, received_at, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    );
    for (const e of stored) {
      insert.run(e.id, e.checkpointCode, e.terminalId, e.lane, e.direction, e.decision, e.reason, e.credentialType, e.seq, e.bootId, Date.parse(e.ts), JSON.stringify(e));
    }
    old.close();

    const store = await opened(file);
    const found = await store.searchEvents({ credentialRefs: ['cd'.repeat(32)], limit: 10 });
    expect(found.events.map((e) => e.id)).toEqual([stored[0]!.id]);
    await store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM events WHERE credential_ref IS NULL').pluck().get()).toBe(1);
    raw.close();
  });

  it('fails the read of list scopes edited into something that is not a scope, rather than widen the ACL', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    await store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
    await store.addTerminal({ terminalId: 't1', checkpointCode: CP_A, secretHash: HASH, listScopes: ['site-a'] });
    const raw = new Database(file);
    raw.prepare(`UPDATE terminals SET list_scopes = '["#"]' WHERE terminal_id = 't1'`).run();
    expect(() => raw.prepare(`UPDATE terminals SET list_scopes = 'site-a' WHERE terminal_id = 't1'`).run()).toThrow(/CHECK constraint/);
    raw.close();
    await expect(store.getTerminalCredentials('t1')).rejects.toThrow('terminal t1: stored list scopes ["#"] are not list scopes');
    await store.close();
  });

  it('logs a terminal that reuses sequence numbers', async () => {
    const log = captureLogger();
    const store = await opened(join(tempDir(), 'central.db'), log.logger);
    await store.insertEvents(eventRun('t1', CP_A, 1, 5, 0), 0);
    await store.insertEvents([scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq: 2, tsMs: 9_000 })], 0);
    expect(log.messages('store.sequence-reused')).toMatchObject([{ terminalId: 't1', events: 1 }]);
    await store.close();
  });

  describe('query plans', () => {
    // Guards the indexes: a full scan here is fine on a test database and fatal on a year of events.
    const plan = (db: Database.Database, sql: string, params: Record<string, string | number>) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail).join(' | ');

    it('answers stats from the checkpoint index alone and walks an index for every search shape', async () => {
      const file = join(tempDir(), 'central.db');
      await (await opened(file)).close();
      const db = new Database(file, { readonly: true });
      expect(plan(db, edgeCountsSql, { code: CP_A, from: 0, to: 1 })).toMatch(/SEARCH events USING COVERING INDEX events_checkpoint \(checkpoint_code=\? AND ts>\? AND ts<\?\)/);
      expect(plan(db, histogramSql, { code: CP_A, from: 0, to: 1, width: 1, offset: 0 })).toMatch(/SEARCH events USING COVERING INDEX events_checkpoint \(checkpoint_code=\? AND ts>\? AND ts<\?\)/);
      for (const sql of [hourlyStatsSql, hourlyHistogramSql]) {
        expect(plan(db, sql, { code: CP_A, end: 0, hour: 0, day: 0, week: 0, month: 0, from: 0, to: 1, width: 1, offset: 0 })).toMatch(
          /SEARCH checkpoint_hourly_counts USING PRIMARY KEY \(checkpoint_code=\? AND hour_ms>\? AND hour_ms<\?\)/,
        );
      }

      // lastDayCounts: one range per registered checkpoint, never the whole rollup or a day of events by time alone.
      expect(plan(db, allHourlyDaySql, { end: 0, hour: 0, day: 0 })).toMatch(/SEARCH checkpoint_hourly_counts USING PRIMARY KEY \(checkpoint_code=\? AND hour_ms>\? AND hour_ms<\?\)/);
      expect(plan(db, allEdgeCountsSql, { from: 0, to: 1 })).toMatch(/SEARCH events USING COVERING INDEX events_checkpoint \(checkpoint_code=\? AND ts>\? AND ts<\?\)/);

      const keys = ['checkpoint', 'checkpoints', 'terminal', 'from', 'to', 'direction', 'decision', 'cursor', 'refs', 'refsIndexed'] as const;
      const params = {
        checkpoint: CP_A,
        checkpoints: JSON.stringify([CP_A]),
        terminal: 't1',
        from: 0,
        to: 1,
        direction: 'in',
        decision: 'granted',
        cursorTs: 1,
        cursorId: 'x',
        refs: JSON.stringify(['ab'.repeat(32)]),
        limit: 10,
      };
      for (let mask = 0; mask < 2 ** keys.length; mask++) {
        const shape = Object.fromEntries(keys.map((key, i) => [key, (mask & (1 << i)) !== 0])) as unknown as SearchShape;
        const detail = plan(db, searchSql(shape), params);
        expect(detail, JSON.stringify(shape)).not.toMatch(/SCAN events(?! USING)/);
        if (shape.refs && shape.refsIndexed) {
          // A few people's events, found through their refs and sorted: the only shape that sorts.
          expect(detail, JSON.stringify(shape)).toMatch(/SEARCH events USING INDEX events_credential \(credential_ref=\?/);
        } else {
          expect(detail, JSON.stringify(shape)).not.toMatch(/TEMP B-TREE/);
          expect(detail, JSON.stringify(shape)).toMatch(/INDEX events_(checkpoint|terminal|ts)/);
        }
      }
      db.close();
    });

    it('finds what retention deletes from the start of events_ts and presence_ts, never a scan', async () => {
      const file = join(tempDir(), 'central.db');
      await (await opened(file)).close();
      const db = new Database(file, { readonly: true });
      const events = plan(db, deleteOldestEventsSql, { cutoff: 0, limit: 10 });
      expect(events).toMatch(/SEARCH events USING COVERING INDEX events_ts \(ts<\?\)/);
      expect(events).toMatch(/SEARCH events USING PRIMARY KEY \(id=\?\)/);
      expect(events).not.toMatch(/SCAN|TEMP B-TREE/);
      const presence = plan(db, deleteOldPresenceSql, { cutoff: 0, limit: 10 });
      expect(presence).toMatch(/SEARCH presence USING COVERING INDEX presence_ts \(ts<\?\)/);
      expect(presence).not.toMatch(/SCAN|TEMP B-TREE/);
      db.close();
    });

    it('reads who is inside through presence_ts and the members and cards keys, never a scan of events or presence', async () => {
      const file = join(tempDir(), 'central.db');
      await (await opened(file)).close();
      const db = new Database(file, { readonly: true });
      const detail = plan(db, insideSql, { since: 0 });
      expect(detail).toMatch(/SEARCH p USING INDEX presence_ts/);
      expect(detail).not.toMatch(/SCAN (p|m|c|events)\b/);
      db.close();
    });
  });

  it('takes the deleted rows out of every index of a real file: the person filter finds only the rows kept', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    const t0 = Date.UTC(2026, 0, 1);
    const refOf = (seq: number) => (seq % 4).toString(16).padStart(64, '0');
    const events = eventRun('t1', CP_A, 1, 500, t0).map((e) => ({ ...e, credentialRef: e.seq % 10 === 0 ? null : refOf(e.seq) }));
    await store.insertEvents(events, t0);
    const cutoff = t0 + 300_500; // seq 1..300 are stamped before it
    let batches = 0;
    for (let batch = await store.deleteEventsBefore(cutoff, 64); ; batch = await store.deleteEventsBefore(cutoff, 64)) {
      batches++;
      expect(batch.events).toBeLessThanOrEqual(64);
      if (batch.done) break;
    }
    expect(batches).toBe(Math.ceil(300 / 64));
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const byIndex = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events INDEXED BY events_credential WHERE credential_ref IS NOT NULL').get()!.n;
    expect(byIndex).toBe(events.filter((e) => e.seq > 300 && e.credentialRef !== null).length);
    expect(db.prepare<[], { n: number; oldest: number }>('SELECT count(*) AS n, min(ts) AS oldest FROM events').get()).toEqual({ n: 200, oldest: t0 + 301_000 });
    db.close();
  });

  it('deletes nothing while the WAL is thousands of pages behind its checkpoints, and goes on once they catch up', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    const t0 = Date.UTC(2026, 0, 1);
    await store.insertEvents(eventRun('t1', CP_A, 1, 300, t0), t0);
    const cutoff = t0 + 100_500;
    // Another connection's open read holds the checkpoints back while 40 MB go into the WAL.
    const other = new Database(file);
    other.pragma('busy_timeout = 5000');
    other.exec('CREATE TABLE filler (b BLOB)');
    const reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM filler').get();
    const fill = other.prepare('INSERT INTO filler VALUES (?)');
    other.transaction(() => {
      for (let i = 0; i < 10_000; i++) fill.run(Buffer.alloc(4000, i));
    })();
    expect(await store.deleteEventsBefore(cutoff, 1000)).toEqual({ events: 0, done: false });
    reader.exec('COMMIT');
    reader.close();
    other.close();
    // The store's checkpointer copies the backlog back within a few passes (every 500 ms).
    const batch = await waitFor(async () => {
      const next = await store.deleteEventsBefore(cutoff, 1000);
      return next.events > 0 ? next : null;
    }, 20_000, 'a retention batch after the checkpoints caught up');
    expect(batch).toEqual({ events: 100, done: true });
    await store.close();
  });

  it('deletes nothing while the checkpointer catches up for a RESTART, and goes on once it has run', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    const t0 = Date.UTC(2026, 0, 1);
    await store.insertEvents(eventRun('t1', CP_A, 1, 300, t0), t0);
    await store.close();
    const db = openCentralDb(file, { synchronous: 'NORMAL' });
    let restartPending = true;
    const retention = new SqliteRetention(db, { walBacklog: { pages: () => 0 }, maxWalBacklogPages: 4_000, checkpointer: { restartPending: () => restartPending } });
    const cutoff = t0 + 100_500;
    const events = () => db.prepare('SELECT count(*) FROM events').pluck().get();
    expect(retention.deleteBefore(cutoff, 1000)).toEqual({ events: 0, done: false });
    expect(events()).toBe(300);
    restartPending = false;
    expect(retention.deleteBefore(cutoff, 1000)).toEqual({ events: 100, done: true });
    expect(events()).toBe(200);
    db.close();
  });

  it('ends a batch at its time budget after a whole chunk, keeps what it deleted and the counts right, and the next call goes on', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    const t0 = Date.UTC(2026, 0, 1);
    const old = 3 * chunkRows;
    await store.insertEvents(eventRun('t1', CP_A, 1, old + 50, t0), t0);
    const cutoff = t0 + old * 1000 + 500;
    // A budget of 0 is spent by the first chunk, whatever maxRows allows.
    expect(await store.deleteEventsBefore(cutoff, 10 * old, 0)).toEqual({ events: chunkRows, done: false });
    expect(await store.deleteEventsBefore(cutoff, 10 * old)).toEqual({ events: old - chunkRows, done: true });
    await store.close();
    const db = new Database(file);
    expect(db.prepare<[], { n: number; oldest: number }>('SELECT count(*) AS n, min(ts) AS oldest FROM events').get()).toEqual({ n: 50, oldest: t0 + (old + 1) * 1000 });
    const rollup = () => db.prepare('SELECT checkpoint_code, hour_ms, decision, count FROM checkpoint_hourly_counts ORDER BY 1, 2, 3').all();
    const kept = rollup();
    rebuildHourlyCounts(db);
    expect(kept).toEqual(rollup());
    db.close();
  });

  it('fills who is inside from the last 30 days of stored passages when a database from before it is upgraded', async () => {
    const file = join(tempDir(), 'central.db');
    const store = await opened(file);
    const now = Date.now();
    const ref = (n: number) => n.toString(16).padStart(64, '0');
    const at = (n: number, seq: number, tsMs: number, direction: 'in' | 'out') => ({ ...scanEvent({ terminalId: 't1', checkpointCode: CP_A, seq, tsMs, direction }), credentialRef: ref(n) });
    await store.insertEvents([at(1, 1, now - 60 * 86_400_000, 'in'), at(2, 2, now - 3_600_000, 'in'), at(3, 3, now - 3_600_000, 'in'), at(3, 4, now - 60_000, 'out'), at(4, 5, now - 60_000, 'in')], now);
    await store.close();
    const raw = new Database(file);
    raw.exec('DROP TABLE roll_call_marks; DROP TABLE roll_calls; DROP TABLE presence');
    raw.exec(presenceMigration);
    raw.close();
    const upgraded = await opened(file);
    expect((await upgraded.insideNow(0)).map((p) => p.ref)).toEqual([ref(4), ref(2)]);
    await upgraded.close();
  });
});

/** Takes a current database back to schema 3: no accounts (6), no enrollment tokens (5), no checkpoint details (4), and none of the later tables and columns. */
function undoSchema4AndLater(db: Database.Database): void {
  // The registry's keyset and live-card indexes (RegistryDb port).
  db.exec('DROP INDEX cards_one_live; DROP INDEX members_scope_ref; CREATE INDEX members_scope ON members (scope)');
  // The published entries' table, dropped once lists were diffed against their snapshot files.
  db.exec('CREATE TABLE list_published (scope TEXT NOT NULL, ref BLOB NOT NULL, status INTEGER NOT NULL, PRIMARY KEY (scope, ref)) WITHOUT ROWID');
  db.exec('DROP TABLE terminal_commands'); // commands to terminals (issue 15 point 6)
  db.exec('DROP TABLE checkpoint_hourly_counts');
  // Later tables: the hourly stats rollup, alarm acknowledgements, members' photos.
  for (const table of ['alarm_acks', 'member_photos']) db.exec(`DROP TABLE ${table}`);
  // who is inside now (presenceMigration)
  for (const table of ['roll_call_marks', 'roll_calls', 'presence']) db.exec(`DROP TABLE ${table}`);
  for (const table of ['sessions', 'api_tokens', 'users', 'audit_log']) db.exec(`DROP TABLE ${table}`);
  db.exec('DROP TABLE enrollment_tokens');
  for (const column of ['unit', 'latitude', 'longitude', 'branch']) db.exec(`ALTER TABLE checkpoints DROP COLUMN ${column}`);
  // The events' credential ref column (the in/out log's person filters).
  db.exec('DROP INDEX events_credential');
  db.exec('ALTER TABLE events DROP COLUMN credential_ref');
}
