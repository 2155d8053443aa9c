import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWalBacklog } from '../../protocol/walBacklog.js';
import { useTempDir } from '../helpers/tempDir.js';

describe('openWalBacklog', () => {
  const tempDir = useTempDir();

  it('reads the frames a checkpoint has yet to copy back, and 0 once it has', () => {
    const file = join(tempDir(), 'some.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE filler (b BLOB)');
    const backlog = openWalBacklog(file);
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      expect(backlog.pages()).toBe(0);
      const insert = db.prepare('INSERT INTO filler VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(8192, i));
      })();
      const [written] = db.pragma('wal_checkpoint(NOOP)') as { log: number; checkpointed: number }[];
      expect(written!.log).toBeGreaterThan(200);
      expect(backlog.pages()).toBe(written!.log - written!.checkpointed);
      db.pragma('wal_checkpoint(PASSIVE)');
      expect(backlog.pages()).toBe(0);
    } finally {
      backlog.close();
      db.close();
    }
  });

  it('reads 0, not an error, where there is no wal-index (a database not in WAL mode)', () => {
    const file = join(tempDir(), 'plain.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (x)');
    const backlog = openWalBacklog(file);
    expect(backlog.pages()).toBe(0);
    backlog.close();
    db.close();
  });
});
