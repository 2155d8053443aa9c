/**
 * Keyset paging over the registry's integer keys (member_id, the cards' rowid): the last key
 * of a page, opaque to clients (base64url) and tagged with what it pages, so a members
 * cursor handed to the cards list is refused instead of skipping rows.
 */

/** Far above any real cursor; keeps a pasted blob out of the decoder. */
const maxLength = 64;

export function encodePageCursor(kind: string, lastKey: number): string {
  return Buffer.from(`${kind}:${lastKey}`, 'utf8').toString('base64url');
}

/** The key to continue after, or null when the text is not a cursor of this kind. */
export function decodePageCursor(kind: string, text: string): number | null {
  if (text.length === 0 || text.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const match = /^([a-z]+):(\d{1,15})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match !== null && match[1] === kind ? Number(match[2]) : null;
}

/** A page of rows and the cursor of the next one (null on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Cuts `rows` (fetched with limit + 1) to a page; `key` gives a row's paging key. */
export function toPage<R, T>(kind: string, rows: readonly R[], limit: number, key: (row: R) => number, view: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  return { items: page.map(view), nextCursor: rows.length > limit ? encodePageCursor(kind, key(page.at(-1)!)) : null };
}
