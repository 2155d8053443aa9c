import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import type { InsertResult } from '../../broker/store/centralStore.js';
import { openCentralDb } from '../../broker/store/sqliteSchema.js';
import { SqliteCentralStore } from '../../broker/store/sqliteStore.js';
import type { ScanEvent } from '../../protocol/event.js';
import type { Telemetry, TerminalStatus } from '../../protocol/messages.js';
import type { RegisteredMember } from '../broker/store/centralStoreContract.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { useTempDir } from './tempDir.js';

/**
 * The real central store (SQLite in a temp folder) for tests of what sits on it (broker,
 * ACL, ingestion, API), with what those tests need around it: a commit held or failed, the
 * calls counted, and reads of the file itself. Behind the hooks every answer is the real
 * store's, so a test cannot pass on a fake's kinder answer (an in-memory fake that did
 * failed most of the store contract).
 */
export class TestCentralStore extends SqliteCentralStore {
  /** The size of every insertEvents call, in order, failed ones included. */
  readonly insertCalls: number[] = [];
  /** While set, insertEvents rejects with it before anything is written (a full disk, a lost database). */
  failInsertsWith: Error | null = null;
  /** While set, insertEvents waits for it before the transaction (a slow commit). */
  holdInserts: Promise<void> | null = null;
  /**
   * What the broker asked the store to record, in order. The store keeps only the latest per
   * terminal (the fleet view); a test of the sequence reads these.
   */
  readonly statuses: Array<{ terminalId: string; status: TerminalStatus }> = [];
  readonly telemetry: Array<{ terminalId: string; telemetry: Telemetry }> = [];
  readonly connections: Array<{ terminalId: string; online: boolean }> = [];
  private reader: Database.Database | null = null;

  constructor(readonly file: string) {
    super({ file, logger: silentLogger() });
  }

  override async insertEvents(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    this.insertCalls.push(events.length);
    if (this.holdInserts) await this.holdInserts;
    if (this.failInsertsWith) throw this.failInsertsWith;
    return super.insertEvents(events, receivedAtMs);
  }

  override async recordStatus(terminalId: string, status: TerminalStatus, atMs: number): Promise<void> {
    await super.recordStatus(terminalId, status, atMs);
    this.statuses.push({ terminalId, status });
  }

  override async recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): Promise<void> {
    await super.recordTelemetry(terminalId, telemetry, atMs);
    this.telemetry.push({ terminalId, telemetry });
  }

  override async recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void> {
    await super.recordConnection(terminalId, online, atMs);
    this.connections.push({ terminalId, online });
  }

  override async close(): Promise<void> {
    this.reader?.close();
    this.reader = null;
    await super.close();
  }

  /** Ids of the events in the file, oldest id first (UUIDv7: the order they were made). */
  eventIds(): string[] {
    return (this.db().prepare('SELECT id FROM events ORDER BY id').all() as { id: string }[]).map((row) => row.id);
  }

  eventCount(): number {
    return (this.db().prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  hasEvent(id: string): boolean {
    return this.db().prepare('SELECT 1 FROM events WHERE id = ?').get(id) !== undefined;
  }

  terminalIds(): string[] {
    return (this.db().prepare('SELECT terminal_id AS id FROM terminals ORDER BY created_at_ms, terminal_id').all() as { id: string }[]).map((row) => row.id);
  }

  /** Makes a terminal's row one from before schema 3, which recorded no list scopes. */
  forgetListScopes(terminalId: string): void {
    const { changes } = this.db().prepare('UPDATE terminals SET list_scopes = NULL WHERE terminal_id = ?').run(terminalId);
    if (changes !== 1) throw new Error(`no terminal ${terminalId}`);
  }

  /** Puts a person in the registry the way `qrgate members` does: straight into the file. */
  register(member: RegisteredMember): void {
    registerMember(this.file, member);
  }

  /** A connection of its own to the file (WAL: it sees every commit), opened once migrate() has made the file. */
  private db(): Database.Database {
    this.reader ??= new Database(this.file);
    return this.reader;
  }
}

/** Writes a member and their cards into the central database at `file`, as the registry commands do. */
export function registerMember(file: string, member: RegisteredMember): void {
  const db = openCentralDb(file, { synchronous: 'NORMAL' });
  try {
    const { summary: m } = member;
    const { lastInsertRowid } = db
      .prepare(
        `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
         VALUES (unhex(?), ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
      )
      .run(member.idRef, m.idMasked, m.name, m.phone, m.address, m.unit, m.scope, m.status);
    for (const card of member.cards) {
      db.prepare('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) VALUES (unhex(?), ?, ?, 0, ?)').run(
        card.ref,
        `card-${card.ref.slice(-8)}`,
        lastInsertRowid,
        card.revoked ? 1 : null,
      );
    }
  } finally {
    db.close();
  }
}

/** Makes a TestCentralStore in a fresh temp folder; each is migrated, and closed after the current test. */
export function useTestStore(): () => Promise<TestCentralStore> {
  const tempDir = useTempDir('qrgate-store-');
  const open: TestCentralStore[] = [];
  // Registered after useTempDir's: vitest runs afterEach hooks last-registered first, so
  // the stores close before their folders go.
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });
  return async () => {
    const store = new TestCentralStore(join(tempDir(), 'central.db'));
    open.push(store);
    await store.migrate();
    return store;
  };
}
