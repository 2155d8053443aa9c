import type { CentralDb } from '../store/sqliteSchema.js';

/**
 * The registry's list of a scope, merged with what was last published for it (the entries
 * of the previous signed snapshot, read back from its file), in one pass.
 *
 * The list of scope S is: every member with scope S by their citizen ref (`id_ref`), each
 * of their live cards (`revoked_at_ms IS NULL`) by its card ref, all with the member's
 * status, and each of their revoked cards as revoked, so a gate tells a guard that a lost or
 * replaced card is being used instead of calling it unknown. Two cursors ordered by ref — that
 * list, and the previous snapshot's entries (a snapshot is in ascending ref order) — are
 * walked side by side, so a million-entry scope never becomes a million JavaScript objects
 * held at once: each ref is handed to the visitor and dropped.
 * SQLite orders BLOBs with memcmp, the same order as Buffer.compare.
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

const statusCode = (column: string): string => `CASE ${column} WHEN 'allow' THEN 0 WHEN 'deny' THEN 1 ELSE 2 END`;

// The compound SELECT is merged by SQLite (each arm sorted, then merged), and hands back
// rows as arrays: per-row marshalling is most of the cost at a million rows.
const registrySql = `
  SELECT id_ref AS ref, ${statusCode('status')} AS code FROM members WHERE scope = @scope
  UNION ALL
  SELECT c.card_ref, CASE WHEN c.revoked_at_ms IS NULL THEN ${statusCode('m.status')} ELSE 4 END
  FROM cards c JOIN members m ON m.member_id = c.member_id
  WHERE m.scope = @scope
  ORDER BY ref`;

export type PublishedEntry = readonly [ref: Buffer, code: StatusCode];
type Row = [Buffer, StatusCode];

/**
 * Walks the merged scope. Run it inside a read transaction so the registry's statements
 * see one moment of the database. `published`: the last version's entries in ascending ref
 * order; empty for a scope never published. A ref met twice on the registry side (a card ref equal to a
 * citizen ref: two HMACs in different namespaces, never seen in practice) is visited once:
 * a list holds each ref once, and the terminal's bulk load relies on strictly rising refs.
 */
export function walkScope(db: CentralDb, scope: string, publishedEntries: Iterable<PublishedEntry>, visit: ScopeVisitor): void {
  const registry = db.prepare(registrySql).raw(true).iterate({ scope }) as IterableIterator<Row>;
  const published = publishedEntries[Symbol.iterator]();
  let previous: Buffer | null = null;
  let a = registry.next();
  let b = published.next();
  try {
    while (!a.done || !b.done) {
      if (!a.done && previous !== null && a.value[0].equals(previous)) {
        a = registry.next();
        continue;
      }
      const order = a.done ? 1 : b.done ? -1 : Buffer.compare(a.value[0], b.value[0]);
      if (order < 0) {
        visit(a.value[0], a.value[1], null);
      } else if (order > 0) {
        visit(b.value[0], null, b.value[1]);
      } else {
        visit(a.value[0], a.value[1], b.value[1]);
      }
      if (order <= 0) {
        previous = a.value![0];
        a = registry.next();
      }
      if (order >= 0) b = published.next();
    }
  } finally {
    // An exception from the visitor must not leave a statement open: it would hold the
    // read transaction (and the WAL) until the connection closes.
    registry.return?.();
    published.return?.();
  }
}
