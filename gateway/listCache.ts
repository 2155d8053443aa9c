import Database from 'better-sqlite3';
import { generationTable, openListsDb, statusFromCode, type EntryStatus, type ListsDb } from './lists/listsDb.js';

export type { EntryStatus } from './lists/listsDb.js';

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

interface ListRow {
  scope: string;
  version: number;
  issued_at_ms: number;
  expires_at_ms: number;
  key_id: string;
  entry_count: number;
  installed_at_ms: number;
  generation: number;
}

interface LookupRow {
  scope: string;
  version: number;
  status: number | null;
  validFromMs: number | null;
  validUntilMs: number | null;
}

/**
 * The scan path's view of the verified lists in lists.db (gateway/lists/listsDb.ts), on a
 * connection of its own that never writes. Writers are the apply worker and `qrgate lists
 * import` in another process; SQLite's `data_version` tells this connection when one of
 * them committed, and the installed lists are reloaded then.
 *
 * A lookup is one statement: one primary-key probe per scope's generation table, each
 * joined to that scope's `lists` row *for that generation*. So an entry and the version
 * reported with it come from one read snapshot, and a statement that reaches a generation
 * a writer has just replaced returns no row for it (or fails, if the table is already
 * dropped): the lookup then reloads and asks again inside one read transaction.
 */
export class ListCache {
  private readonly db: ListsDb;
  private readonly selectLists;
  private readonly dataVersion;
  private lastDataVersion = -1;
  private listsByScope = new Map<string, InstalledList>();
  private generations: readonly number[] = [];
  private lookupStatement: Database.Statement<[{ ref: Buffer }], LookupRow> | null = null;

  constructor(dataDir: string) {
    this.db = openListsDb(dataDir);
    this.db.pragma('query_only = ON');
    this.selectLists = this.db.prepare<[], ListRow>('SELECT * FROM lists ORDER BY scope');
    this.dataVersion = this.db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** Lists installed, by scope (all scopes in the file; callers filter to their own). */
  installed(): ReadonlyMap<string, InstalledList> {
    this.refresh();
    return this.listsByScope;
  }

  lookup(ref: Buffer): CachedEntry[] {
    this.refresh();
    try {
      const entries = this.query(ref);
      if (entries) return entries;
    } catch (err) {
      if (!(err instanceof Database.SqliteError)) throw err;
      // a generation table dropped under us: a writer swapped a snapshot in just now
    }
    return this.db.transaction(() => {
      this.reload();
      return this.query(ref) ?? [];
    })();
  }

  close(): void {
    this.db.close();
  }

  private refresh(): void {
    if (this.dataVersion.get() !== this.lastDataVersion) this.reload();
  }

  private reload(): void {
    this.lastDataVersion = this.dataVersion.get()!;
    const rows = this.selectLists.all();
    this.listsByScope = new Map(rows.map((row) => [row.scope, fromListRow(row)]));
    const generations = rows.map((row) => row.generation);
    // A delta commit changes versions, not tables: the statement stays.
    if (generations.join() !== this.generations.join()) {
      this.generations = generations;
      this.lookupStatement = null;
    }
  }

  /** The entries for `ref`, or null when a scope's generation moved since the last reload. */
  private query(ref: Buffer): CachedEntry[] | null {
    if (this.generations.length === 0) return [];
    this.lookupStatement ??= this.db.prepare<[{ ref: Buffer }], LookupRow>(
      this.generations
        .map(
          (generation) =>
            `SELECT l.scope AS scope, l.version AS version, e.status AS status,
                    e.valid_from_ms AS validFromMs, e.valid_until_ms AS validUntilMs
             FROM lists AS l LEFT JOIN ${generationTable(generation)} AS e ON e.ref = @ref
             WHERE l.generation = ${generation}`,
        )
        .join(' UNION ALL '),
    );
    const rows = this.lookupStatement.all({ ref });
    if (rows.length !== this.generations.length) return null;
    const entries: CachedEntry[] = [];
    for (const row of rows) {
      const status = row.status === null ? undefined : statusFromCode(row.status);
      if (!status) continue;
      entries.push({
        scope: row.scope,
        listVersion: row.version,
        status,
        validFromMs: row.validFromMs,
        validUntilMs: row.validUntilMs,
      });
    }
    return entries;
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
