import type { VerifiedList } from '../../protocol/lists/index.js';
import { ListApplyError, type ApplyResult } from './applyResult.js';
import { generationTable, openListsDb, statusCode, type ListsDb, type ListsDbOptions } from './listsDb.js';

interface ListRow {
  scope: string;
  version: number;
  entry_count: number;
  generation: number;
}

export interface WriteOptions {
  /** The entry count the publisher announced for the result; a different result is rolled back. */
  readonly expectedCount?: number;
  /** Recorded as the install time. Defaults to Date.now(). */
  readonly nowMs?: number;
}

type Written = Omit<ApplyResult, 'applyMs' | 'phases'> & { readonly retiredGeneration: number | null };

/**
 * Writes verified lists into lists.db (gateway/lists/listsDb.ts). Synchronous: it runs in
 * the apply worker (gateway/lists/applyWorker.ts) or in the one-shot `qrgate lists import`,
 * never on a terminal's scan thread.
 *
 * A snapshot fills a new generation table and points the scope at it in the same
 * transaction; the old table is dropped afterwards. A delta edits the live table in one
 * transaction. Either way a reader sees the old list or the new one.
 */
export class ListWriter {
  private readonly selectList;
  private readonly nextGeneration;

  constructor(private readonly db: ListsDb) {
    this.selectList = db.prepare<[string], ListRow>('SELECT scope, version, entry_count, generation FROM lists WHERE scope = ?');
    this.nextGeneration = db.prepare<[], number>("UPDATE meta SET value = value + 1 WHERE key = 'next_generation' RETURNING value - 1").pluck();
  }

  /** The version installed for a scope, null when none: verifySignedList's rollback check. */
  installedVersion(scope: string): number | null {
    return this.selectList.get(scope)?.version ?? null;
  }

  /**
   * Installs a verified snapshot (replaces the scope's list) or delta (applied on top of
   * its base version). The installed version again changes nothing.
   */
  apply(list: VerifiedList, options: WriteOptions = {}): ApplyResult {
    const startedMs = performance.now();
    const { header } = list;
    let writtenMs = startedMs;
    // IMMEDIATE: the version checks and the write see the same installed list, even when
    // another process applies at the same time.
    const written = this.db
      .transaction((): Written => {
        const current = this.selectList.get(header.scope);
        const unchanged = this.unchanged(list, current);
        const result = unchanged ?? (header.kind === 'snapshot' ? this.writeSnapshot(list, current, options) : this.writeDelta(list, current, options));
        writtenMs = performance.now();
        return result;
      })
      .immediate();
    const committedMs = performance.now();
    if (written.retiredGeneration !== null) this.dropGeneration(written.retiredGeneration);
    const doneMs = performance.now();
    const { retiredGeneration: _, ...result } = written;
    return {
      ...result,
      applyMs: doneMs - startedMs,
      phases: { verifyMs: 0, writeMs: writtenMs - startedMs, commitMs: committedMs - writtenMs, dropMs: doneMs - committedMs },
    };
  }

  /**
   * Drops entry tables no scope points at: left by a process that died between a swap and
   * the drop of the old table. Safe at any time (only writers call it).
   */
  dropOrphans(): void {
    const live = new Set(this.db.prepare<[], number>('SELECT generation FROM lists').pluck().all());
    const tables = this.db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'g[0-9]*'").pluck().all();
    for (const name of tables) {
      if (!/^g[1-9][0-9]*$/.test(name)) continue;
      const generation = Number(name.slice(1));
      if (!live.has(generation)) this.dropGeneration(generation);
    }
  }

  close(): void {
    this.db.close();
  }

  private unchanged(list: VerifiedList, current: ListRow | undefined): Written | null {
    const { header } = list;
    const previousVersion = current?.version ?? null;
    // verifySignedList checked this too, but another process may have installed since.
    if (previousVersion !== null && header.version < previousVersion) {
      throw new ListApplyError('rollback', `list "${header.scope}" version ${header.version} is older than installed version ${previousVersion}`);
    }
    if (previousVersion !== header.version) return null;
    const entries = current!.entry_count;
    return { scope: header.scope, version: header.version, previousVersion, kind: header.kind, entries, changed: false, retiredGeneration: null };
  }

  private writeSnapshot(list: VerifiedList, current: ListRow | undefined, options: WriteOptions): Written {
    const { header } = list;
    const generation = this.nextGeneration.get()!;
    const table = generationTable(generation);
    this.db.exec(
      `CREATE TABLE ${table} (ref BLOB PRIMARY KEY, status INTEGER NOT NULL, valid_from_ms INTEGER, valid_until_ms INTEGER) WITHOUT ROWID`,
    );
    const insert = this.db.prepare<[Buffer, number, number | null, number | null]>(
      `INSERT OR REPLACE INTO ${table} (ref, status, valid_from_ms, valid_until_ms) VALUES (?, ?, ?, ?)`,
    );
    // The publisher sorts snapshots by ref, which makes every insert a B-tree append and
    // proves every ref distinct. Anything else still installs correctly (a repeated ref:
    // the last one wins) and is counted the slow way.
    let previous: Buffer | null = null;
    let ascending = true;
    let inserted = 0;
    for (const entry of list.entries({ views: true })) {
      if (entry.status === 'remove') throw new ListApplyError('malformed', 'malformed list: a snapshot cannot remove entries');
      if (ascending && previous !== null && Buffer.compare(previous, entry.ref) >= 0) ascending = false;
      previous = entry.ref;
      insert.run(entry.ref, statusCode(entry.status), entry.validFrom ?? null, entry.validUntil ?? null);
      inserted++;
    }
    const entries = ascending ? inserted : this.db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get()!;
    checkCount(header.scope, entries, options.expectedCount);
    this.writeListRow(list, entries, generation, options);
    return {
      scope: header.scope,
      version: header.version,
      previousVersion: current?.version ?? null,
      kind: 'snapshot',
      entries,
      changed: true,
      retiredGeneration: current?.generation ?? null,
    };
  }

  private writeDelta(list: VerifiedList, current: ListRow | undefined, options: WriteOptions): Written {
    const { header } = list;
    if (!current || current.version !== header.baseVersion) {
      throw new ListApplyError(
        'base-missing',
        `delta ${header.baseVersion}->${header.version} for scope "${header.scope}" needs version ${header.baseVersion} installed, have ${current?.version ?? 'none'}`,
      );
    }
    const table = generationTable(current.generation);
    // Each write says whether the ref was there, so the count stays exact without a scan.
    const insertNew = this.db.prepare<[Buffer, number, number | null, number | null]>(
      `INSERT INTO ${table} (ref, status, valid_from_ms, valid_until_ms) VALUES (?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING`,
    );
    const update = this.db.prepare<[number, number | null, number | null, Buffer]>(
      `UPDATE ${table} SET status = ?, valid_from_ms = ?, valid_until_ms = ? WHERE ref = ?`,
    );
    const remove = this.db.prepare<[Buffer]>(`DELETE FROM ${table} WHERE ref = ?`);
    let entries = current.entry_count;
    for (const entry of list.entries({ views: true })) {
      if (entry.status === 'remove') {
        entries -= remove.run(entry.ref).changes;
        continue;
      }
      const code = statusCode(entry.status);
      const from = entry.validFrom ?? null;
      const until = entry.validUntil ?? null;
      if (insertNew.run(entry.ref, code, from, until).changes === 1) entries++;
      else update.run(code, from, until, entry.ref);
    }
    checkCount(header.scope, entries, options.expectedCount);
    this.writeListRow(list, entries, current.generation, options);
    return {
      scope: header.scope,
      version: header.version,
      previousVersion: current.version,
      kind: 'delta',
      entries,
      changed: true,
      retiredGeneration: null,
    };
  }

  private writeListRow(list: VerifiedList, entries: number, generation: number, options: WriteOptions): void {
    const { header } = list;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO lists (scope, version, issued_at_ms, expires_at_ms, key_id, entry_count, installed_at_ms, generation)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        header.scope,
        header.version,
        Date.parse(header.issuedAt),
        Date.parse(header.expiresAt),
        list.keyId,
        entries,
        options.nowMs ?? Date.now(),
        generation,
      );
  }

  /** Its own transaction: the swap is already committed, readers have moved on. */
  private dropGeneration(generation: number): void {
    this.db.exec(`DROP TABLE IF EXISTS ${generationTable(generation)}`);
  }
}

function checkCount(scope: string, entries: number, expectedCount: number | undefined): void {
  if (expectedCount !== undefined && entries !== expectedCount) {
    throw new ListApplyError('count-mismatch', `list "${scope}" would hold ${entries} entries, the publisher announced ${expectedCount}`);
  }
}

/** A writer on the terminal's lists.db, with leftovers of an interrupted apply cleaned up. */
export function openListWriter(dataDir: string, options: ListsDbOptions = {}): ListWriter {
  // A writer waits for another writer (a 1,000,000-entry snapshot takes seconds on a Pi).
  const writer = new ListWriter(openListsDb(dataDir, { busyTimeoutMs: 60_000, ...options }));
  writer.dropOrphans();
  return writer;
}
