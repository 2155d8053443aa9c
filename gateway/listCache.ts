import type { VerifiedList } from '../protocol/lists/index.js';
import type { TerminalDb } from './terminalDb.js';

export type EntryStatus = 'allow' | 'deny' | 'check';
const statusCodes: Record<EntryStatus, number> = { allow: 1, deny: 2, check: 3 };
const statusByCode = new Map(Object.entries(statusCodes).map(([status, code]) => [code, status as EntryStatus]));

export interface InstalledList {
  readonly scope: string;
  readonly version: number;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly keyId: string;
  readonly entryCount: number;
  readonly installedAtMs: number;
}

export interface CachedEntry {
  readonly scope: string;
  readonly listVersion: number;
  readonly status: EntryStatus;
  readonly validFromMs: number | null;
  readonly validUntilMs: number | null;
}

export interface InstallResult {
  readonly scope: string;
  readonly version: number;
  readonly previousVersion: number | null;
  readonly entries: number;
  readonly changed: boolean;
}

export class ListInstallError extends Error {
  constructor(
    readonly code: 'base-missing' | 'unknown-status',
    message: string,
  ) {
    super(message);
  }
}

interface EntryRow {
  scope: string;
  status: number;
  valid_from_ms: number | null;
  valid_until_ms: number | null;
}

interface ListRow {
  scope: string;
  version: number;
  issued_at_ms: number;
  expires_at_ms: number;
  key_id: string;
  entry_count: number;
  installed_at_ms: number;
}

/**
 * The terminal's cached, verified lists in SQLite. Lookups are one primary-key probe.
 * `install` is one transaction: another connection (the scan path while
 * `qrgate lists import` runs in its own process) sees the old list or the new one, never a
 * mix (WAL snapshot isolation). Installed-list metadata is cached in memory and reloaded
 * when SQLite's `data_version` says another connection committed.
 */
export class ListCache {
  private readonly selectEntries;
  private readonly selectLists;
  private readonly dataVersion;
  private lastDataVersion = -1;
  private listsByScope = new Map<string, InstalledList>();

  constructor(private readonly db: TerminalDb) {
    this.selectEntries = db.prepare<[Buffer], EntryRow>(
      'SELECT scope, status, valid_from_ms, valid_until_ms FROM list_entries WHERE ref = ?',
    );
    this.selectLists = db.prepare<[], ListRow>('SELECT * FROM lists');
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** Lists installed, by scope (all scopes in the file; callers filter to their own). */
  installed(): ReadonlyMap<string, InstalledList> {
    const version = this.dataVersion.get()!;
    if (version !== this.lastDataVersion) {
      this.lastDataVersion = version;
      this.listsByScope = new Map(this.selectLists.all().map((row) => [row.scope, fromListRow(row)]));
    }
    return this.listsByScope;
  }

  lookup(ref: Buffer): CachedEntry[] {
    const lists = this.installed();
    const result: CachedEntry[] = [];
    for (const row of this.selectEntries.all(ref)) {
      const list = lists.get(row.scope);
      const status = statusByCode.get(row.status);
      if (!list || !status) continue;
      result.push({
        scope: row.scope,
        listVersion: list.version,
        status,
        validFromMs: row.valid_from_ms,
        validUntilMs: row.valid_until_ms,
      });
    }
    return result;
  }

  /**
   * Installs a verified snapshot (replaces the scope's entries) or delta (applies on top of
   * its base version). Re-installing the installed version changes nothing.
   */
  install(list: VerifiedList, nowMs: number = Date.now()): InstallResult {
    const { header } = list;
    const run = this.db.transaction((): InstallResult => {
      const current = this.db.prepare<[string], ListRow>('SELECT * FROM lists WHERE scope = ?').get(header.scope);
      const previousVersion = current?.version ?? null;
      if (previousVersion === header.version) {
        return { scope: header.scope, version: header.version, previousVersion, entries: current!.entry_count, changed: false };
      }
      if (header.kind === 'delta' && previousVersion !== header.baseVersion) {
        throw new ListInstallError(
          'base-missing',
          `delta ${header.baseVersion}->${header.version} for scope "${header.scope}" needs version ${header.baseVersion} installed, have ${previousVersion ?? 'none'}`,
        );
      }
      if (header.kind === 'snapshot') {
        this.db.prepare('DELETE FROM list_entries WHERE scope = ?').run(header.scope);
      }
      const upsert = this.db.prepare<[Buffer, string, number, number | null, number | null]>(
        'INSERT OR REPLACE INTO list_entries (ref, scope, status, valid_from_ms, valid_until_ms) VALUES (?, ?, ?, ?, ?)',
      );
      const remove = this.db.prepare<[Buffer, string]>('DELETE FROM list_entries WHERE ref = ? AND scope = ?');
      for (const entry of list.entries()) {
        if (entry.status === 'remove') {
          remove.run(entry.ref, header.scope);
          continue;
        }
        const code = statusCodes[entry.status];
        upsert.run(entry.ref, header.scope, code, entry.validFrom ?? null, entry.validUntil ?? null);
      }
      const count = this.db
        .prepare<[string], number>('SELECT count(*) FROM list_entries WHERE scope = ?')
        .pluck()
        .get(header.scope)!;
      this.db
        .prepare(
          `INSERT OR REPLACE INTO lists (scope, version, issued_at_ms, expires_at_ms, key_id, entry_count, installed_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(header.scope, header.version, Date.parse(header.issuedAt), Date.parse(header.expiresAt), list.keyId, count, nowMs);
      return { scope: header.scope, version: header.version, previousVersion, entries: count, changed: true };
    });
    return run.immediate();
  }
}

function fromListRow(row: ListRow): InstalledList {
  return {
    scope: row.scope,
    version: row.version,
    issuedAtMs: row.issued_at_ms,
    expiresAtMs: row.expires_at_ms,
    keyId: row.key_id,
    entryCount: row.entry_count,
    installedAtMs: row.installed_at_ms,
  };
}
