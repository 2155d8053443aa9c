import type pg from 'pg';
import { StoreError } from '../storeError.js';
import { ensureMonthPartitions } from './pgPartitions.js';

/**
 * The central's PostgreSQL schema (issue 15 point 4): the same tables as the SQLite schema
 * (sqliteSchema.ts) for what CentralStore reads and writes, with PostgreSQL types. Times are
 * integer milliseconds since the epoch (`bigint`), as in SQLite, so cursors, rollups and
 * windows use one arithmetic on both stores.
 *
 * Migrations are append-only and versioned in `schema_migrations` (one row per migration
 * applied). Each runs in its own transaction; the whole run holds a session advisory lock,
 * so two centrals (or a central and a provisioning command) starting at once apply each
 * migration once, in order.
 *
 * `events` is range-partitioned by month on the terminal's timestamp `ts` (pgPartitions.ts):
 * retention can drop a month whole, and a month's stats and logs touch one partition. A
 * unique constraint on a partitioned table must contain the partition key, so the primary
 * key is (id, ts): a redelivery carries the event exactly as first sent (the terminal's
 * outbox row), same id and same ts, and lands on the same key. The indexes mirror SQLite's,
 * one per way the API reads events, each ending in (ts, id) for the newest-first keyset walk.
 *
 * The registry's tables are here too: members and cards in the first migration (CentralStore's
 * membersByRefs and insideNow join them), the rest in 'registry', written through RegistryDb
 * (broker/store/sql/) by the same modules that write them on SQLite.
 */
export const pgMigrations: readonly { readonly name: string; readonly sql: string }[] = [
  {
    name: 'central store',
    sql: `
  CREATE TABLE checkpoints (
    code text PRIMARY KEY,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('in', 'out', 'both')),
    confirm text NOT NULL CHECK (confirm IN ('auto', 'manual')),
    created_at_ms bigint NOT NULL,
    retired_at_ms bigint,
    unit text NOT NULL DEFAULT '',
    latitude double precision CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    longitude double precision CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    branch boolean NOT NULL DEFAULT false
  );

  -- The secret itself is never stored: only its hash (broker/auth/secrets.ts).
  -- list_scopes: a JSON array, NULL for "unknown" (see sqliteSchema.ts migration 3).
  CREATE TABLE terminals (
    terminal_id text PRIMARY KEY,
    checkpoint_code text NOT NULL REFERENCES checkpoints (code),
    secret_hash text NOT NULL,
    created_at_ms bigint NOT NULL,
    removed_at_ms bigint,
    list_scopes jsonb CHECK (list_scopes IS NULL OR jsonb_typeof(list_scopes) = 'array')
  );

  -- No foreign keys: a lookup per event on the hot path, and the broker's ACL already ties a
  -- terminal to its checkpoint. event: the event as sent (json keeps its text).
  CREATE TABLE events (
    id uuid NOT NULL,
    checkpoint_code text NOT NULL,
    terminal_id text NOT NULL,
    lane text NOT NULL,
    direction text NOT NULL,
    decision text NOT NULL,
    reason text NOT NULL,
    credential_type text NOT NULL,
    credential_ref bytea,
    seq bigint NOT NULL,
    boot_id text NOT NULL,
    ts bigint NOT NULL,
    received_at bigint NOT NULL,
    event json NOT NULL,
    PRIMARY KEY (id, ts)
  ) PARTITION BY RANGE (ts);
  CREATE INDEX events_checkpoint ON events (checkpoint_code, ts, id) INCLUDE (decision);
  CREATE INDEX events_terminal ON events (terminal_id, ts, id);
  CREATE INDEX events_ts ON events (ts, id);
  CREATE INDEX events_credential ON events (credential_ref, ts, id) WHERE credential_ref IS NOT NULL;

  -- One row per terminal; its writers serialise on an advisory lock (pgEventWriter.ts).
  CREATE TABLE terminal_sequence (
    terminal_id text PRIMARY KEY,
    max_seq bigint NOT NULL,
    last_event_at_ms bigint NOT NULL
  );

  -- Missing ranges, inclusive and disjoint per terminal.
  CREATE TABLE sequence_gaps (
    terminal_id text NOT NULL,
    from_seq bigint NOT NULL,
    to_seq bigint NOT NULL,
    PRIMARY KEY (terminal_id, from_seq)
  );

  -- Each group of columns carries the time it was written; an older update is ignored (pgFleet.ts).
  CREATE TABLE fleet_state (
    terminal_id text PRIMARY KEY,
    online boolean NOT NULL DEFAULT false,
    online_at_ms bigint,
    status json,
    status_at_ms bigint,
    boot_id text,
    boot_at_ms bigint,
    telemetry json,
    telemetry_at_ms bigint,
    last_seen_at_ms bigint
  );

  -- Scans per checkpoint per UTC hour by decision, kept by insertEvents (sqliteHourlyCounts.ts).
  CREATE TABLE checkpoint_hourly_counts (
    checkpoint_code text NOT NULL,
    hour_ms bigint NOT NULL,
    decision text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (checkpoint_code, hour_ms, decision)
  );

  -- Each credential ref's last passage (sqlitePresence.ts).
  CREATE TABLE presence (
    ref bytea PRIMARY KEY,
    direction text NOT NULL CHECK (direction IN ('in', 'out')),
    ts bigint NOT NULL,
    checkpoint_code text NOT NULL,
    event_id uuid
  );
  CREATE INDEX presence_ts ON presence (ts);

  -- Single-use enrollment QRs: only the SHA-256 of a token (docs/enrollment.md).
  CREATE TABLE enrollment_tokens (
    token_hash text PRIMARY KEY,
    checkpoint_code text NOT NULL REFERENCES checkpoints (code),
    list_scopes jsonb NOT NULL CHECK (jsonb_typeof(list_scopes) = 'array'),
    created_at_ms bigint NOT NULL,
    expires_at_ms bigint NOT NULL,
    used_at_ms bigint,
    used_by_device text,
    terminal_id text REFERENCES terminals (terminal_id)
  );

  -- The people registry as sqliteSchema.ts migration 2 has it: read here by membersByRefs
  -- and insideNow; no raw ID number, only its ref and the last 3 digits.
  CREATE TABLE members (
    member_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    id_ref bytea NOT NULL UNIQUE,
    id_masked text NOT NULL,
    name text NOT NULL,
    phone text NOT NULL,
    address text NOT NULL,
    unit text NOT NULL,
    scope text NOT NULL,
    status text NOT NULL CHECK (status IN ('allow', 'deny', 'check')),
    created_at_ms bigint NOT NULL,
    updated_at_ms bigint NOT NULL
  );
  CREATE INDEX members_scope ON members (scope);
  CREATE INDEX members_unit ON members (unit);
  CREATE TABLE cards (
    card_ref bytea PRIMARY KEY,
    card_id text NOT NULL UNIQUE,
    member_id bigint NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    issued_at_ms bigint NOT NULL,
    revoked_at_ms bigint
  );
  CREATE INDEX cards_member ON cards (member_id);
  `,
  },
  {
    // Commands to terminals (issue 15 point 6, pgCommands.ts), as sqliteSchema.ts has them. The
    // id is text COLLATE "C": openCommands pages by id in byte order, which for lowercase UUIDv7
    // is issue order; the database's default collation (en_US and the like) would not keep it.
    // The partial indexes hold only commands not yet acknowledged: a node's polls read the
    // few still open, not the history.
    name: 'terminal commands',
    sql: `
  CREATE TABLE terminal_commands (
    id text COLLATE "C" PRIMARY KEY,
    terminal_id text NOT NULL,
    checkpoint_code text NOT NULL,
    name text NOT NULL,
    fields jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'object'),
    issued_at_ms bigint NOT NULL,
    expires_at_ms bigint NOT NULL,
    issued_by text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_sent_at_ms bigint,
    ack_outcome text CHECK (ack_outcome IN ('executed', 'ignored')),
    ack_reason text,
    ack_event_id text,
    ack_terminal_at text,
    acked_at_ms bigint
  );
  CREATE INDEX terminal_commands_open ON terminal_commands (expires_at_ms) WHERE acked_at_ms IS NULL;
  CREATE INDEX terminal_commands_terminal ON terminal_commands (terminal_id, id) WHERE acked_at_ms IS NULL;
  CREATE INDEX terminal_commands_issued ON terminal_commands (issued_at_ms) WHERE acked_at_ms IS NULL;
  `,
  },
  {
    // The rest of the registry (sqliteSchema.ts migrations 2, 6 and later): list versions,
    // accounts, sessions, tokens, the audit log, alarm acknowledgements, members' photos and
    // roll calls, written through RegistryDb (broker/store/sql/) by the same modules as on
    // SQLite. JSON columns stay text, as the modules read and write them there; the checks
    // hold them to JSON of the right shape. Flags are integers 0/1 for the same reason.
    name: 'registry',
    sql: `
  CREATE TABLE list_versions (
    scope text NOT NULL,
    version bigint NOT NULL,
    issued_at_ms bigint NOT NULL,
    expires_at_ms bigint NOT NULL,
    entry_count bigint NOT NULL,
    snapshot_file text NOT NULL,
    delta_file text,
    delta_count bigint,
    published_at_ms bigint NOT NULL,
    PRIMARY KEY (scope, version)
  );

  CREATE TABLE users (
    username text PRIMARY KEY,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'manager', 'guard', 'inspector')),
    unit text,
    checkpoints text NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checkpoints::jsonb) = 'array'),
    created_at_ms bigint NOT NULL,
    password_changed_at_ms bigint NOT NULL,
    disabled_at_ms bigint,
    CHECK ((role = 'manager') = (unit IS NOT NULL))
  );

  CREATE TABLE api_tokens (
    token_id text PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'manager', 'guard', 'inspector')),
    unit text,
    checkpoints text NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checkpoints::jsonb) = 'array'),
    read_only integer NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
    created_by text NOT NULL,
    created_at_ms bigint NOT NULL,
    expires_at_ms bigint,
    revoked_at_ms bigint,
    last_used_at_ms bigint,
    CHECK ((role = 'manager') = (unit IS NOT NULL))
  );

  CREATE TABLE sessions (
    session_hash text PRIMARY KEY,
    username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at_ms bigint NOT NULL,
    last_seen_at_ms bigint NOT NULL,
    address text NOT NULL
  );
  CREATE INDEX sessions_user ON sessions (username);

  CREATE TABLE audit_log (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at_ms bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    details text NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details::jsonb) = 'object'),
    source text NOT NULL
  );
  CREATE INDEX audit_at ON audit_log (at_ms);

  CREATE TABLE alarm_acks (
    alarm_id text PRIMARY KEY,
    kind text NOT NULL,
    acknowledged_by text NOT NULL,
    acknowledged_at_ms bigint NOT NULL,
    note text NOT NULL
  );
  CREATE INDEX alarm_acks_at ON alarm_acks (acknowledged_at_ms);

  CREATE TABLE member_photos (
    member_id bigint PRIMARY KEY REFERENCES members (member_id) ON DELETE CASCADE,
    jpeg bytea NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    updated_at_ms bigint NOT NULL
  );

  CREATE TABLE roll_calls (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    unit text NOT NULL,
    started_at_ms bigint NOT NULL,
    started_by text NOT NULL
  );
  CREATE INDEX roll_calls_unit ON roll_calls (unit, id);
  CREATE TABLE roll_call_marks (
    roll_call_id bigint NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
    ref text NOT NULL,
    marked_at_ms bigint NOT NULL,
    marked_by text NOT NULL,
    PRIMARY KEY (roll_call_id, ref)
  );
  `,
  },
  {
    // Retention of commands (pgRetention.ts): the oldest, acknowledged or not, found by age.
    name: 'commands by age',
    sql: `CREATE INDEX terminal_commands_age ON terminal_commands (issued_at_ms);`,
  },
  {
    // As sqliteSchema.ts's migration of the same indexes: a list publish's keyset pages of a
    // scope's members by ref, and at most one live card per member (issueCards runs in READ
    // COMMITTED: two at once could otherwise both find no live card and both insert one).
    // card_seq: the cards' issue order, the key `GET /api/cards` pages by (SQLite's rowid).
    name: 'registry keyset and live cards',
    sql: `
  ALTER TABLE cards ADD COLUMN card_seq bigint GENERATED BY DEFAULT AS IDENTITY;
  CREATE UNIQUE INDEX cards_seq ON cards (card_seq);
  CREATE INDEX members_scope_ref ON members (scope, id_ref);
  DROP INDEX members_scope;
  CREATE UNIQUE INDEX cards_one_live ON cards (member_id) WHERE revoked_at_ms IS NULL;
  `,
  },
  {
    // The signed list files and manifest of each scope's current version, which every node
    // of a cluster materialises into its own folder (broker/lists/sharedLists.ts).
    name: 'shared list files',
    sql: `
  CREATE TABLE list_files (
    scope text NOT NULL,
    name text NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (scope, name)
  );
  CREATE TABLE list_manifests (
    scope text PRIMARY KEY,
    version bigint NOT NULL,
    manifest bytea NOT NULL
  );
  `,
  },
  {
    // Retention clears a month's hourly rollup by hour before it drops the month's partition
    // (pgRetention.ts): in chunks, then what writers added since, under the drop's lock. The
    // primary key leads with the checkpoint and cannot find an hour range without a full scan.
    name: 'rollup by hour',
    sql: `CREATE INDEX checkpoint_hourly_counts_hour ON checkpoint_hourly_counts (hour_ms);`,
  },
];

export const pgSchemaVersion = pgMigrations.length;

/**
 * Session advisory lock key for migrations, one per schema (hashtext of the schema name):
 * two stores on different schemas of one database do not wait for each other. Taken before
 * the schema is created: CREATE SCHEMA IF NOT EXISTS from two sessions at once can fail.
 */
const migrationLockSql = `SELECT pg_advisory_lock(hashtext('qrgate.migrate.' || $1))`;
const migrationUnlockSql = `SELECT pg_advisory_unlock(hashtext('qrgate.migrate.' || $1))`;

/**
 * Brings the schema up to date, then makes sure the current and next month's partitions of
 * events exist (the insert path creates others on demand). Safe on every start, from several
 * processes at once.
 */
export async function migratePg(client: pg.ClientBase, schema: string, nowMs: number): Promise<void> {
  await client.query(migrationLockSql, [schema]);
  try {
    // `schema` passed createPool's check (letters, digits, _); the connection's search_path already names it.
    if (schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > pgMigrations.length) {
      throw new StoreError('schema-too-new', `central database schema ${current} is newer than this software (${pgMigrations.length}): upgrade qrgate`);
    }
    for (let version = current + 1; version <= pgMigrations.length; version++) {
      const migration = pgMigrations[version - 1]!;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, migration.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query(migrationUnlockSql, [schema]);
  }
  await ensureMonthPartitions(client, [nowMs, nextMonthStartMs(nowMs)]);
}

function nextMonthStartMs(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
