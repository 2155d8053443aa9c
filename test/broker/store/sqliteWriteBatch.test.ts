import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteWriteBatch } from '../../../broker/store/sqliteWriteBatch.js';

describe('SqliteWriteBatch', () => {
  const dbs: Database.Database[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
  });

  function open() {
    const db = new Database(':memory:');
    dbs.push(db);
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
    const insert = db.prepare<[string]>('INSERT INTO t (id) VALUES (?)');
    const ids = () => (db.prepare('SELECT id FROM t ORDER BY id').all() as { id: string }[]).map((row) => row.id);
    return { db, insert, ids, batch: new SqliteWriteBatch(db) };
  }

  it('commits the writes of one event-loop turn in one transaction, in order, and settles each once committed', async () => {
    const { db, insert, ids, batch } = open();
    const seen: Array<[string, boolean]> = [];
    const write = (id: string) => batch.enqueue(() => (seen.push([id, db.inTransaction]), insert.run(id)));
    const settled = Promise.all([write('a'), write('b'), write('c')]);
    expect(ids()).toEqual([]); // nothing written before the turn ends
    await settled;
    expect(seen).toEqual([['a', true], ['b', true], ['c', true]]);
    expect(ids()).toEqual(['a', 'b', 'c']);
    await write('d'); // a later turn: its own batch
    expect(ids()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives each write its own outcome when the batch fails: the others are kept', async () => {
    const { insert, ids, batch } = open();
    insert.run('taken');
    const outcomes = await Promise.allSettled([batch.enqueue(() => insert.run('a')), batch.enqueue(() => insert.run('taken')), batch.enqueue(() => insert.run('b'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(ids()).toEqual(['a', 'b', 'taken']);
  });

  it('flush() commits what is queued at once (before the store closes)', async () => {
    const { insert, ids, batch } = open();
    const written = batch.enqueue(() => insert.run('a'));
    batch.flush();
    expect(ids()).toEqual(['a']);
    await written;
    batch.flush(); // nothing queued: nothing to do
  });
});
