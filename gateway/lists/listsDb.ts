import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type ListsDb = Database.Database;

export type EntryStatus = 'allow' | 'deny' | 'check' | 'revoked';
// Stored codes: never renumber, a terminal's lists.db outlives an upgrade.
const statusCodes: Record<EntryStatus, number> = { allow: 1, deny: 2, check: 3, revoked: 4 };
const statusByCode = new Map(Object.entries(statusCodes).map(([status, code]) => [code, status as EntryStatus]));

export function statusCode(status: EntryStatus): number {
  return statusCodes[status];
}

export function statusFromCode(code: number): EntryStatus | undefined {
  return statusByCode.get(code);
}

/**
 * The verified lists live in their own SQLite file, apart from terminal.db (issue 4): a
 * snapshot apply holds this file's write lock for seconds, and the scan path's outbox
 * insert must never wait for it. Only list writers (the apply worker, `qrgate lists
 * import`) write here; the scan path only reads, and WAL readers never wait for a writer.
 *
 * A scope's entries live in a table of their own, `g{generation}`: a snapshot is built in a
 * new table and swapped in by pointing `lists.generation` at it, so readers see the old
 * table or the new one. Generation numbers come from `meta.next_generation`, never from
 * user text, and are never reused.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('next_generation', 1);

  CREATE TABLE lists (
    scope TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    entry_count INTEGER NOT NULL,
    installed_at_ms INTEGER NOT NULL,
    generation INTEGER NOT NULL UNIQUE
  ) WITHOUT ROWID;
  `,
];

export interface ListsDbOptions {
  /** synchronous=FULL instead of NORMAL (config.storage.powerLossSafe, as terminal.db). */
  readonly powerLossSafe?: boolean;
  /**
   * How long a writer waits for another writer (a technician's `qrgate lists import` beside
   * the sync) before giving up. Readers never wait for writers in WAL mode.
   */
  readonly busyTimeoutMs?: number;
}

/**
 * Page cache per connection, KiB (better-sqlite3's default is 16 MB). A lookup walks ~4
 * pages and a sorted snapshot appends, so the B-tree's interior pages (~0.5 MB at
 * 1,000,000 entries) are all either needs hot; the rest is the OS page cache's job, and a
 * terminal's memory stays bounded while it applies (issue 4: RSS <= 150 MB).
 */
const CACHE_KIB = 4096;

export function listsDbPath(dataDir: string): string {
  return join(dataDir, 'lists.db');
}

/** The entries table of one generation. The number is ours; the check keeps it that way. */
export function generationTable(generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 1) throw new Error(`invalid list generation ${generation}`);
  return `g${generation}`;
}

export function openListsDb(dataDir: string, options: ListsDbOptions = {}): ListsDb {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(listsDbPath(dataDir));
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.powerLossSafe ? 'FULL' : 'NORMAL'}`);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    // A snapshot writes ~50 MB of WAL; give the disk back once it is checkpointed.
    db.pragma(`journal_size_limit = ${8 * 1024 * 1024}`);
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: ListsDb): void {
  // Checked without a lock first: a reader opening while a writer holds the lock for a
  // long apply must not wait for it when there is nothing to migrate.
  if (schemaVersion(db) === migrations.length) return;
  // IMMEDIATE: the scan path's reader and the apply worker open the file at the same moment
  // when a terminal starts; only one of them may run a migration.
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > migrations.length) {
      throw new Error(`lists database schema ${current} is newer than this software (${migrations.length}): upgrade qrgate`);
    }
    for (let i = current; i < migrations.length; i++) db.exec(migrations[i]!);
    if (current < migrations.length) db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}

function schemaVersion(db: ListsDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}
