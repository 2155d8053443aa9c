import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hourlyCountsBackfillSql, hourlyCountsTableSql } from './sqliteHourlyCounts.js';
import { StoreError } from './storeError.js';

export type CentralDb = Database.Database;

// Who is inside now (issue 14 page 5, broker/store/sqlitePresence.ts): each credential ref's
// last passage, kept as events are stored, so the console reads one row per person who
// passed within the expiry window (presence_ts) instead of a day of events. A take-out by an
// operator is a row turned to 'out' with no event. Filled here from the last 30 days of
// granted passages already stored, so an upgraded central knows who is inside at once.
// Roll calls for an evacuation: one per checkpoint unit at a time (the newest), and who
// marked whom safe in it (refs as hex, as the console names them).
export const presenceMigration = `
  CREATE TABLE presence (
    ref BLOB PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    ts INTEGER NOT NULL,
    checkpoint_code TEXT NOT NULL,
    event_id TEXT
  ) WITHOUT ROWID;
  CREATE INDEX presence_ts ON presence (ts);
  INSERT INTO presence (ref, direction, ts, checkpoint_code, event_id)
    SELECT unhex(json_extract(event, '$.credentialRef')), direction, ts, checkpoint_code, id FROM events
    WHERE ts > unixepoch('now') * 1000 - 30 * 86400000 AND decision = 'granted' AND reason <> 'remote-open'
      AND json_extract(event, '$.credentialRef') IS NOT NULL AND json_extract(event, '$.passed') IS NOT 0
    ORDER BY ts, id
    ON CONFLICT (ref) DO UPDATE SET direction = excluded.direction, ts = excluded.ts, checkpoint_code = excluded.checkpoint_code, event_id = excluded.event_id;

  CREATE TABLE roll_calls (
    id INTEGER PRIMARY KEY,
    unit TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    started_by TEXT NOT NULL
  );
  CREATE INDEX roll_calls_unit ON roll_calls (unit, id);
  CREATE TABLE roll_call_marks (
    roll_call_id INTEGER NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    marked_at_ms INTEGER NOT NULL,
    marked_by TEXT NOT NULL,
    PRIMARY KEY (roll_call_id, ref)
  ) WITHOUT ROWID;
`;

/**
 * The central's SQLite schema. Migrations are append-only; `user_version` says how many
 * have run (as in gateway/terminalDb.ts). Times are integer milliseconds since the epoch
 * (`*_ms`); the API turns them into ISO 8601.
 *
 * `events` is WITHOUT ROWID, clustered on its UUIDv7 id: ids are time-ordered, so inserts
 * append to the end of the primary key instead of landing at random (DESIGN.md "Scan
 * event": random keys made the PK the bottleneck). Every secondary index of a WITHOUT
 * ROWID table ends with the primary key, so `(checkpoint_code, ts)` is really
 * `(checkpoint_code, ts, id)`: exactly the newest-first `(ts, id)` order that keyset
 * pagination walks, with no sort step. Measured against a rowid table with the same
 * indexes, 300k events in batches of 2,000: equal within noise (≈63k events/s each), so the
 * shorter indexes and the free tie-break decide it.
 *
 * Each secondary index costs about 5 ms per 2,000 rows on the hot path (measured), so
 * there are only three, one per way the API reads events:
 * - events_checkpoint: stats and logs per checkpoint. `decision` is carried so the stats'
 *   partial edge hours (the whole hours come from checkpoint_hourly_counts) are counted
 *   from the index alone, without a lookup per event.
 * - events_terminal: logs per terminal.
 * - events_ts: logs across all checkpoints; appended at the end, nearly free to maintain.
 * Filters on direction/decision are applied while walking one of these.
 * A fourth, events_credential (a later migration below), serves the log's filters by person.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE checkpoints (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'both')),
    confirm TEXT NOT NULL CHECK (confirm IN ('auto', 'manual')),
    created_at_ms INTEGER NOT NULL,
    retired_at_ms INTEGER
  ) WITHOUT ROWID;

  -- The secret itself is never stored: only its scrypt hash (broker/auth/secrets.ts).
  CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    checkpoint_code TEXT NOT NULL REFERENCES checkpoints (code),
    secret_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    removed_at_ms INTEGER
  ) WITHOUT ROWID;

  -- No foreign keys here: checking them would cost a lookup per event on the hot path, and
  -- the broker's ACL already ties a terminal to its own checkpoint.
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    checkpoint_code TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    lane TEXT NOT NULL,
    direction TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    credential_type TEXT NOT NULL,
    seq INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    event TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX events_checkpoint ON events (checkpoint_code, ts, id, decision);
  CREATE INDEX events_terminal ON events (terminal_id, ts);
  CREATE INDEX events_ts ON events (ts);

  -- Written once per terminal per insertEvents batch.
  CREATE TABLE terminal_sequence (
    terminal_id TEXT PRIMARY KEY,
    max_seq INTEGER NOT NULL,
    last_event_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Missing ranges, inclusive and disjoint per terminal.
  CREATE TABLE sequence_gaps (
    terminal_id TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, from_seq)
  ) WITHOUT ROWID;

  -- Each group of columns carries the time it was written (*_at_ms), and an update older
  -- than what is stored is ignored: with several ingestion paths, messages can be handled
  -- out of order.
  CREATE TABLE fleet_state (
    terminal_id TEXT PRIMARY KEY,
    online INTEGER NOT NULL DEFAULT 0,
    online_at_ms INTEGER,
    status TEXT,
    status_at_ms INTEGER,
    boot_id TEXT,
    boot_at_ms INTEGER,
    telemetry TEXT,
    telemetry_at_ms INTEGER,
    -- Last sign of life other than an event (events: terminal_sequence.last_event_at_ms).
    last_seen_at_ms INTEGER
  ) WITHOUT ROWID;
  `,
  // 2: the people registry, cards and published lists (issue 4). The raw ID number is never
  // stored: `id_ref` is its credential ref in namespace `citizen` (the same ref a terminal
  // computes from a CCCD scan), `id_masked` the last 3 digits for operators.
  `
  CREATE TABLE members (
    member_id INTEGER PRIMARY KEY,
    id_ref BLOB NOT NULL UNIQUE,
    id_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    unit TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('allow', 'deny', 'check')),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
  );
  CREATE INDEX members_scope ON members (scope);
  CREATE INDEX members_unit ON members (unit);

  -- qrgate cards. card_id is the 26-character id printed in the QR (the card is a bearer
  -- token, kept so it can be printed again); card_ref its ref in namespace 'card'. A
  -- reissue revokes the member's live card in the same transaction.
  CREATE TABLE cards (
    card_ref BLOB PRIMARY KEY,
    card_id TEXT NOT NULL UNIQUE,
    member_id INTEGER NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    issued_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
  );
  CREATE INDEX cards_member ON cards (member_id);

  -- One row per published version of a scope's list; files live in dataDir/lists/{scope}/.
  CREATE TABLE list_versions (
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    entry_count INTEGER NOT NULL,
    snapshot_file TEXT NOT NULL,
    -- Null for a scope's first version.
    delta_file TEXT,
    delta_count INTEGER,
    published_at_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, version)
  ) WITHOUT ROWID;

  -- The entries of each scope's latest published version, so the next publish is a diff.
  CREATE TABLE list_published (
    scope TEXT NOT NULL,
    ref BLOB NOT NULL,
    status INTEGER NOT NULL,
    PRIMARY KEY (scope, ref)
  ) WITHOUT ROWID;
  `,
  // 3: the list scopes each terminal was provisioned with (`terminals add --lists`), as a
  // JSON array: the ACL lets a terminal subscribe to those scopes' topics only. Rows from
  // before stay NULL ("unknown, any scope"): their scopes were only ever written into the
  // terminal's own config, and guessing ["default"] would silently cut off every site that
  // syncs another scope. The central warns about them (auth.list-scopes-unknown) until they
  // are re-added; new terminals always have scopes (sqliteRegistry.ts).
  `
  ALTER TABLE terminals ADD COLUMN list_scopes TEXT CHECK (list_scopes IS NULL OR json_valid(list_scopes));
  `,
  // 4: the checkpoint details the seed system kept (issue 5): the unit running it, its
  // position (WGS 84 degrees, set together or not at all) and whether it is a branch site
  // outside the headquarters. Existing checkpoints get '' / NULL / 0: nothing is guessed.
  `
  ALTER TABLE checkpoints ADD COLUMN unit TEXT NOT NULL DEFAULT '';
  ALTER TABLE checkpoints ADD COLUMN latitude REAL CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90);
  ALTER TABLE checkpoints ADD COLUMN longitude REAL CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180);
  ALTER TABLE checkpoints ADD COLUMN branch INTEGER NOT NULL DEFAULT 0 CHECK (branch IN (0, 1));
  `,
  // 5: single-use enrollment QRs (`terminals enroll-qr`, docs/enrollment.md). Only the
  // SHA-256 of a token is kept: whoever reads this file cannot enroll a terminal with it.
  // `used_by_device` is the nonce of the device that used it, so that device alone may ask
  // again when the answer was lost on the way.
  `
  CREATE TABLE enrollment_tokens (
    token_hash TEXT PRIMARY KEY,
    checkpoint_code TEXT NOT NULL REFERENCES checkpoints (code),
    list_scopes TEXT NOT NULL CHECK (json_valid(list_scopes)),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER,
    used_by_device TEXT,
    terminal_id TEXT REFERENCES terminals (terminal_id)
  ) WITHOUT ROWID;
  `,
  // 6: people who use the central's HTTP API and console, program tokens, browser sessions
  // and the audit log (issue 12, docs/security.md). No secret is stored in clear: passwords
  // as scrypt hashes, tokens and session ids as SHA-256 (they are 256 random bits, so a fast
  // hash is enough). A guard's checkpoints are a JSON array of codes.
  `
  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'guard', 'inspector')),
    unit TEXT,
    checkpoints TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(checkpoints)),
    created_at_ms INTEGER NOT NULL,
    password_changed_at_ms INTEGER NOT NULL,
    disabled_at_ms INTEGER,
    CHECK ((role = 'manager') = (unit IS NOT NULL))
  ) WITHOUT ROWID;

  CREATE TABLE api_tokens (
    token_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'guard', 'inspector')),
    unit TEXT,
    checkpoints TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(checkpoints)),
    read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER,
    revoked_at_ms INTEGER,
    last_used_at_ms INTEGER,
    CHECK ((role = 'manager') = (unit IS NOT NULL))
  ) WITHOUT ROWID;

  CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL,
    address TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sessions_user ON sessions (username);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    source TEXT NOT NULL
  );
  CREATE INDEX audit_at ON audit_log (at_ms);
  `,
  // Checkpoint stats without scanning the month (issue 15): scans per checkpoint per UTC hour,
  // by decision, kept by insertEvents in its own transaction and filled here
  // from the events already stored (sqliteHourlyCounts.ts).
  hourlyCountsTableSql + hourlyCountsBackfillSql,
  // The in/out log's filters by person, unit and residence (issue 14 point 4): each event's
  // credential ref as a column of its own (32 bytes, as members.id_ref and cards.card_ref),
  // so "the events of these people" is `credential_ref IN (their refs)` on an index rather
  // than a read of every event's JSON. Filled on insert (sqliteEventWriter.ts); rows from
  // before are filled here from their JSON, once (one pass over the table at upgrade).
  // Partial: scans with no credential (malformed, remote opens) stay out of the index.
  `
  ALTER TABLE events ADD COLUMN credential_ref BLOB;
  UPDATE events SET credential_ref = unhex(event ->> '$.credentialRef') WHERE event ->> '$.credentialRef' IS NOT NULL;
  CREATE INDEX events_credential ON events (credential_ref, ts) WHERE credential_ref IS NOT NULL;
  `,
  // Who is inside now and roll calls (issue 14 page 5): presenceMigration above.
  presenceMigration,
  // Alarm acknowledgements (issue 14 point 1, broker/alarms/alarmAcks.ts): one row per alarm
  // occurrence an operator acknowledged, with who, when and the note. The id names the
  // occurrence, so an alarm that clears and comes back has a new id and no row.
  `
  CREATE TABLE alarm_acks (
    alarm_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    acknowledged_by TEXT NOT NULL,
    acknowledged_at_ms INTEGER NOT NULL,
    note TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX alarm_acks_at ON alarm_acks (acknowledged_at_ms);
  `,
  // Members' photos (issue 14 page 6): kept by the central only, never in a list or on a terminal;
  // re-encoded JPEG (memberPhotoImage.ts), one per member, gone with the member.
  `
  CREATE TABLE member_photos (
    member_id INTEGER PRIMARY KEY REFERENCES members (member_id) ON DELETE CASCADE,
    jpeg BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
  );
  `,
  // A list's published entries are read back from its signed snapshot file (broker/lists/
  // publish.ts), so the copy a publish wrote into this table in its write transaction (a
  // million rows, seconds of the file's write lock) goes (issue 15 point 3).
  `DROP TABLE list_published;`,
  // Commands to terminals (issue 15 point 6, broker/store/sqliteCommands.ts): queued by
  // `qrgate terminals command`, delivered by whichever node holds the terminal's connection,
  // acknowledged by the terminal. The partial indexes hold only commands not yet acknowledged,
  // so a node's polls (recent ones, one terminal's, all) read the few still open, not the history.
  `
  CREATE TABLE terminal_commands (
    id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    checkpoint_code TEXT NOT NULL,
    name TEXT NOT NULL,
    fields TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    issued_by TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_sent_at_ms INTEGER,
    ack_outcome TEXT CHECK (ack_outcome IN ('executed', 'ignored')),
    ack_reason TEXT,
    ack_event_id TEXT,
    ack_terminal_at TEXT,
    acked_at_ms INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX terminal_commands_open ON terminal_commands (expires_at_ms) WHERE acked_at_ms IS NULL;
  CREATE INDEX terminal_commands_terminal ON terminal_commands (terminal_id, id) WHERE acked_at_ms IS NULL;
  CREATE INDEX terminal_commands_issued ON terminal_commands (issued_at_ms) WHERE acked_at_ms IS NULL;
  `,
  // Retention of commands (sqliteRetention.ts): the oldest, acknowledged or not, found by age.
  `CREATE INDEX terminal_commands_age ON terminal_commands (issued_at_ms);`,
  // The registry on RegistryDb (issue 15 point 4), as pgSchema.ts has it too. A list publish
  // reads a scope's members in keyset pages by ref (`scope = ? AND id_ref > ? ORDER BY id_ref`):
  // (scope, id_ref) answers each page from the index, where (scope) alone sorted the whole
  // scope for every page; it serves every `scope = ?` the old index did. At most one live card
  // per member: a transaction's lock kept it on SQLite, PostgreSQL's READ COMMITTED would
  // not, so the database keeps it on both.
  `
  CREATE INDEX members_scope_ref ON members (scope, id_ref);
  DROP INDEX members_scope;
  CREATE UNIQUE INDEX cards_one_live ON cards (member_id) WHERE revoked_at_ms IS NULL;
  `,
];

export const schemaVersion = migrations.length;

export interface CentralDbOptions {
  /**
   * NORMAL (default): a commit survives the process being killed at any instant, which is
   * what DESIGN.md asks of the central; the last commits may be lost on power failure.
   * FULL: fsync on every commit, surviving power loss too, at a cost per commit.
   */
  readonly synchronous: 'NORMAL' | 'FULL';
}

export function openCentralDb(file: string, options: CentralDbOptions): CentralDb {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    // The provisioning CLI writes to the same file while the central runs (DESIGN.md
    // "Provisioning commands"): wait for its short transactions rather than fail.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    // A retention pass or a large import can grow the WAL far past its usual few MB while a
    // checkpoint is held back by a reader; once it is checkpointed, the file is cut back to
    // this instead of keeping its largest size on disk for good.
    db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: CentralDb): void {
  // The version is read inside the IMMEDIATE transaction: the central and a provisioning
  // command starting at once must not both apply the same migration.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new StoreError(
        'schema-too-new',
        `central database schema ${current} is newer than this software (${migrations.length}): upgrade qrgate`,
      );
    }
    if (current === migrations.length) return;
    for (const migration of migrations.slice(current)) db.exec(migration);
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}
