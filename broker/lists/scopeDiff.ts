import type { RegistryDb } from '../store/sql/registryDb.js';

/**
 * The registry's list of a scope, merged with what was last published for it (the entries
 * of the previous signed snapshot, read back from its file), in one pass.
 *
 * The list of scope S is: every member with scope S by their citizen ref (`id_ref`), each
 * of their live cards (`revoked_at_ms IS NULL`) by its card ref, all with the member's
 * status, and each of their revoked cards as revoked, so a gate tells a guard that a lost or
 * replaced card is being used instead of calling it unknown. Three cursors ordered by ref —
 * the scope's members, their cards, and the previous snapshot's entries (a snapshot is in
 * ascending ref order) — are walked side by side, so a million-entry scope never becomes a
 * million JavaScript objects held at once: the registry is read a page at a time, each ref
 * handed to the visitor and dropped. SQLite: keyset pages (`ref > last ORDER BY ref LIMIT n`
 * on the (scope, id_ref) index and the cards' primary key). PostgreSQL: one cursor per side,
 * FETCHed a page at a time: a keyset page's plan depends on the table's statistics, and right
 * after a million-row import (the first publish) they still say the table is small, so each
 * page was planned as "take every row of the scope and sort it" — 4.8 s a page, 100 pages.
 * A cursor runs the query once, whatever the plan.
 * Both engines order BLOB/bytea bytewise, the same order as Buffer.compare.
 *
 * Status codes are indexes into `listStatuses` (protocol/lists/format.ts): 0 allow, 1 deny,
 * 2 check, 4 revoked (3 is remove, a delta's, never stored).
 */

export type StatusCode = 0 | 1 | 2 | 4;

/**
 * `current` null: the ref left the list. `published` null: the ref is new. Equal codes:
 * unchanged. Called in ascending ref order, each ref once.
 */
export type ScopeVisitor = (ref: Buffer, current: StatusCode | null, published: StatusCode | null) => void;

export type PublishedEntry = readonly [ref: Buffer, code: StatusCode];

interface RefRow {
  readonly ref: Buffer;
  readonly code: StatusCode;
}

/** Rows per keyset page: large enough that round trips to PostgreSQL are a small part of the time. */
export const scopePageRows = 10_000;

const statusCode = (column: string): string => `CASE ${column} WHEN 'allow' THEN 0 WHEN 'deny' THEN 1 ELSE 2 END`;

/** One side of the scope's list: its rows of one scope (`?`), and the ref column they are ordered by. */
interface ScopeQuery {
  readonly select: string;
  readonly key: string;
  /** The PostgreSQL cursor's name. */
  readonly cursor: string;
}

const memberRows: ScopeQuery = {
  select: `SELECT id_ref AS ref, ${statusCode('status')} AS code FROM members WHERE scope = ?`,
  key: 'id_ref',
  cursor: 'qrgate_scope_members',
};

const cardRows: ScopeQuery = {
  select: `SELECT c.card_ref AS ref, CASE WHEN c.revoked_at_ms IS NULL THEN ${statusCode('m.status')} ELSE 4 END AS code
   FROM cards c JOIN members m ON m.member_id = c.member_id WHERE m.scope = ?`,
  key: 'c.card_ref',
  cursor: 'qrgate_scope_cards',
};

/** The rows of `query` for `scope` in ref order, a page at a time (see the header for why two ways). */
async function readInPages(db: RegistryDb, query: ScopeQuery, scope: string): Promise<PagedRefs> {
  if (db.dialect === 'postgres') {
    await db.run(`DECLARE ${query.cursor} NO SCROLL CURSOR FOR ${query.select} ORDER BY ${query.key}`, [scope]);
    return PagedRefs.open(() => db.all<RefRow>(`FETCH ${scopePageRows} FROM ${query.cursor}`));
  }
  return PagedRefs.open((after) =>
    db.all<RefRow>(
      `${query.select}${after === null ? '' : ` AND ${query.key} > ?`} ORDER BY ${query.key} LIMIT ?`,
      after === null ? [scope, scopePageRows] : [scope, after, scopePageRows],
    ),
  );
}

/**
 * One keyset-paged read, consumed a row at a time. `advance` returns a promise only when it
 * had to fetch the next page, so the merge below awaits once per page, not once per row.
 */
class PagedRefs {
  current: RefRow | undefined;
  private rows: RefRow[] = [];
  private index = 0;

  private constructor(private readonly fetch: (after: Buffer | null) => Promise<RefRow[]>) {}

  static async open(fetch: (after: Buffer | null) => Promise<RefRow[]>): Promise<PagedRefs> {
    const cursor = new PagedRefs(fetch);
    cursor.take(await fetch(null));
    return cursor;
  }

  advance(): Promise<void> | undefined {
    this.index++;
    if (this.index < this.rows.length) {
      this.current = this.rows[this.index];
      return undefined;
    }
    if (this.rows.length < scopePageRows) {
      this.current = undefined;
      return undefined;
    }
    return this.fetch(this.rows[this.rows.length - 1]!.ref).then((rows) => this.take(rows));
  }

  private take(rows: RefRow[]): void {
    this.rows = rows;
    this.index = 0;
    this.current = rows[0];
  }
}

/**
 * Walks the merged scope. Run it inside `db.readTransaction` (`db` being its `tx`): its pages
 * see one moment of the database, and PostgreSQL's cursors live in a transaction. `published`: the last version's entries in ascending ref order; empty for a
 * scope never published. A ref met twice on the registry side (a card ref equal to a citizen
 * ref: two HMACs in different namespaces, never seen in practice) is visited once: a list
 * holds each ref once, and the terminal's bulk load relies on strictly rising refs.
 */
export async function walkScope(db: RegistryDb, scope: string, publishedEntries: Iterable<PublishedEntry>, visit: ScopeVisitor): Promise<void> {
  const members = await readInPages(db, memberRows, scope);
  const cards = await readInPages(db, cardRows, scope);
  const published = publishedEntries[Symbol.iterator]();
  let previous: Buffer | null = null;
  let b = published.next();
  try {
    for (;;) {
      const m = members.current;
      const c = cards.current;
      const from = m !== undefined && (c === undefined || Buffer.compare(m.ref, c.ref) <= 0) ? members : c !== undefined ? cards : null;
      const a = from?.current;
      if (a !== undefined && previous !== null && a.ref.equals(previous)) {
        await from!.advance();
        continue;
      }
      if (a === undefined && b.done) break;
      const order = a === undefined ? 1 : b.done ? -1 : Buffer.compare(a.ref, b.value[0]);
      if (order < 0) visit(a!.ref, a!.code, null);
      else if (order > 0) visit(b.value![0], null, b.value![1]);
      else visit(a!.ref, a!.code, b.value![1]);
      if (order <= 0) {
        previous = a!.ref;
        const fetching = from!.advance();
        if (fetching !== undefined) await fetching;
      }
      if (order >= 0) b = published.next();
    }
  } finally {
    published.return?.();
  }
  // Closed for a walk that may follow in the same transaction; a failed one's go with its rollback.
  if (db.dialect === 'postgres') for (const query of [memberRows, cardRows]) await db.run(`CLOSE ${query.cursor}`);
}
