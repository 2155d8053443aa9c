import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { searchSql, statsSql, type SearchShape } from '../../../broker/store/sqliteEventReader.js';
import { schemaVersion } from '../../../broker/store/sqliteSchema.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { describeCentralStore } from './centralStoreContract.js';
import { CP_A, eventRun, scanEvent } from './scanEvents.js';

const tempDir = useTempDir('qrgate-central-');

describeCentralStore('sqlite', async () => new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() }));
// What the broker, ACL and API tests run on (test/helpers/sqliteStore.ts): its hooks idle, it is the real store.
describeCentralStore('TestCentralStore', async () => new TestCentralStore(join(tempDir(), 'central.db')));
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
      expect(plan(db, statsSql, { code: CP_A, now: 0, hour: 0, day: 0, week: 0, month: 0 })).toMatch(/SEARCH events USING COVERING INDEX events_checkpoint/);

      const keys = ['checkpoint', 'checkpoints', 'terminal', 'from', 'to', 'direction', 'decision', 'cursor'] as const;
      const params = { checkpoint: CP_A, checkpoints: JSON.stringify([CP_A]), terminal: 't1', from: 0, to: 1, direction: 'in', decision: 'granted', cursorTs: 1, cursorId: 'x', limit: 10 };
      for (let mask = 0; mask < 2 ** keys.length; mask++) {
        const shape = Object.fromEntries(keys.map((key, i) => [key, (mask & (1 << i)) !== 0])) as unknown as SearchShape;
        const detail = plan(db, searchSql(shape), params);
        expect(detail, JSON.stringify(shape)).not.toMatch(/SCAN events(?! USING)|TEMP B-TREE/);
        expect(detail, JSON.stringify(shape)).toMatch(/INDEX events_(checkpoint|terminal|ts)/);
      }
      db.close();
    });
  });
});

/** Takes a current database back to schema 3: no member photos (later), no accounts (6), no enrollment tokens (5), no checkpoint details (4). */
function undoSchema4AndLater(db: Database.Database): void {
  db.exec('DROP TABLE member_photos');
  for (const table of ['sessions', 'api_tokens', 'users', 'audit_log']) db.exec(`DROP TABLE ${table}`);
  db.exec('DROP TABLE enrollment_tokens');
  for (const column of ['unit', 'latitude', 'longitude', 'branch']) db.exec(`ALTER TABLE checkpoints DROP COLUMN ${column}`);
}
