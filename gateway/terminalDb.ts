import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type TerminalDb = Database.Database;

/**
 * One SQLite file per terminal holds the outbox, the sequence counter and anti-passback
 * state (DESIGN.md "Storage"); the verified lists live beside it in lists.db. Migrations
 * are append-only; `user_version` says how many have run.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('seq', 0), ('clockHighWaterMs', 0);

  -- One row per decision. 'final' = 0 while a passage sensor may still report; the
  -- uplink only sends final rows, so 'passed' is settled before an event leaves.
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    final INTEGER NOT NULL DEFAULT 1
  );

  CREATE TABLE lists (
    scope TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    entry_count INTEGER NOT NULL,
    installed_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Keyed by ref first: the scan path asks "which lists know this ref?" in one index probe.
  CREATE TABLE list_entries (
    ref BLOB NOT NULL,
    scope TEXT NOT NULL,
    status INTEGER NOT NULL,
    valid_from_ms INTEGER,
    valid_until_ms INTEGER,
    PRIMARY KEY (ref, scope)
  ) WITHOUT ROWID;
  CREATE INDEX list_entries_scope ON list_entries (scope);

  CREATE TABLE presence (
    ref BLOB PRIMARY KEY,
    direction TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // Lists moved to their own file, lists.db (gateway/lists/listsDb.ts), so a long list
  // apply never holds the write lock the outbox needs (issue 4). The lists cached here are
  // dropped, not copied: an upgraded terminal starts with no list and fetches the current
  // one on its next sync (or a technician runs `qrgate lists import` again).
  `
  DROP TABLE IF EXISTS list_entries;
  DROP TABLE IF EXISTS lists;
  `,
  // The central's commands run here, by id, with the ack each earned (gateway/uplink/commandMemory.ts):
  // a copy sent again after a lost ack, even after a restart, is answered and not run twice.
  `
  CREATE TABLE handled_commands (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    ack TEXT
  );
  `,
];

export interface OpenOptions {
  /** synchronous=FULL (fsync every commit) instead of NORMAL. See gateway/config.ts. */
  readonly powerLossSafe?: boolean;
  readonly readonly?: boolean;
}

export function terminalDbPath(dataDir: string): string {
  return join(dataDir, 'terminal.db');
}

export function openTerminalDb(dataDir: string, options: OpenOptions = {}): TerminalDb {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(terminalDbPath(dataDir), { readonly: options.readonly ?? false });
  // Another connection (a test, a tool reading the outbox) may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
  if (options.readonly) return db;
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.powerLossSafe ? 'FULL' : 'NORMAL'}`);
  migrate(db);
  return db;
}

function migrate(db: TerminalDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`terminal database schema ${current} is newer than this software (${migrations.length}): upgrade qrgate`);
  }
  for (let i = current; i < migrations.length; i++) {
    db.transaction(() => {
      db.exec(migrations[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
