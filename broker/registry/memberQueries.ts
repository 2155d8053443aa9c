import { refToHex } from '../../protocol/credentialRef.js';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import type { RegistryDb, SqlValue } from '../store/sql/registryDb.js';
import { SqliteRegistryDb } from '../store/sql/sqliteRegistryDb.js';
import { msToIso } from '../store/time.js';
import type { MemberDetails, MemberStatus } from './memberRow.js';
import { toPage, type Page } from './pageCursor.js';

/**
 * Reading the registry one person or one page at a time: `GET /api/members` and `qrgate
 * members list` run these same functions. A person is named by `ref`, the hex of their
 * citizen ref (the keyed hash of the ID number): it can sit in a URL or a log, the number
 * never does.
 */

export interface RegistryMember extends MemberDetails {
  readonly ref: string;
  readonly idMasked: string;
  /**
   * The live card's printed number (groups of 4), null without one. A card is a bearer
   * credential: callers show it only to whoever manages this member.
   */
  readonly cardNumber: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MemberFilter {
  readonly unit?: string | undefined;
  readonly scope?: string | undefined;
  readonly status?: MemberStatus | undefined;
  /** Part of the name (any case, with or without diacritics) or of the phone number. */
  readonly q?: string | undefined;
}

export interface PageRequest {
  readonly limit: number;
  /** The member_id / card rowid the previous page ended on (pageCursor.ts). */
  readonly after?: number | undefined;
}

interface MemberRow extends MemberDetails {
  readonly memberId: number;
  readonly idRef: Buffer;
  readonly idMasked: string;
  readonly cardId: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

const selectMember = `
  SELECT m.member_id AS "memberId", m.id_ref AS "idRef", m.id_masked AS "idMasked", m.name, m.phone, m.address, m.unit, m.scope, m.status,
    m.created_at_ms AS "createdAtMs", m.updated_at_ms AS "updatedAtMs",
    (SELECT c.card_id FROM cards c WHERE c.member_id = m.member_id AND c.revoked_at_ms IS NULL LIMIT 1) AS "cardId"
  FROM members m`;

function view(row: MemberRow): RegistryMember {
  return {
    ref: refToHex(row.idRef),
    idMasked: row.idMasked,
    name: row.name,
    phone: row.phone,
    address: row.address,
    unit: row.unit,
    scope: row.scope,
    status: row.status,
    cardNumber: row.cardId === null ? null : groupCardNumber(row.cardId),
    createdAt: msToIso(row.createdAtMs),
    updatedAt: msToIso(row.updatedAtMs),
  };
}

/**
 * What a search compares: lower case without diacritics, đ as d ("Nguyễn" ~ "nguyen").
 * Vietnamese letters decompose under NFD into a base letter and combining marks, except đ.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
}

/** A LIKE pattern (ESCAPE '\\') matching `text` anywhere. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The Vietnamese letters (and the other Latin letters with marks) that foldForSearch turns
 * into one ASCII letter, and what it turns them into: PostgreSQL's translate() table. With
 * them gone, what is left is ASCII, which lower() folds the same under any collation.
 */
const foldTable = (() => {
  let from = '';
  let to = '';
  for (const [first, last] of [
    [0x00c0, 0x024f],
    [0x1e00, 0x1eff],
  ] as const) {
    for (let code = first; code <= last; code++) {
      const letter = String.fromCodePoint(code);
      const folded = foldForSearch(letter);
      if (/^[a-z]$/.test(folded)) {
        from += letter;
        to += letter === letter.toLowerCase() ? folded : folded.toUpperCase();
      }
    }
  }
  return { from, to };
})();

/**
 * SQL for `column` folded as foldForSearch folds it. SQLite has no diacritic folding; its
 * connection gets ours as a function, registered per call because the API and each CLI
 * command have their own connection (better-sqlite3 replaces a function of the same name).
 * PostgreSQL does it with translate() and lower() (no extension needed). Registry text is
 * NFC (memberRow.ts), so every Vietnamese letter is one code point either engine maps alike.
 * A name search reads every row of the filter (about a second per million members), which
 * is why it stops at a page.
 */
export function foldSql(db: RegistryDb, column: string): string {
  if (db.dialect === 'postgres') return `lower(translate(${column}, '${foldTable.from}', '${foldTable.to}'))`;
  if (!(db instanceof SqliteRegistryDb)) throw new Error('a name search on SQLite runs on the registry itself, not inside a transaction');
  db.connection.function('qrgate_fold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? foldForSearch(value) : null));
  return `qrgate_fold(${column})`;
}

/**
 * The SQL condition (on `m`) for "part of the name, any case, with or without diacritics,
 * or part of the phone number when it has 3 digits or more"; its parameters are pushed onto
 * `params` in the order of their `?`. `phones: false` matches names only.
 */
export function nameOrPhoneMatch(db: RegistryDb, q: string, params: SqlValue[], phones = true): string {
  const digits = q.replace(/[\s.+-]/g, '');
  const byPhone = phones && /^\d{3,}$/.test(digits);
  params.push(likePattern(foldForSearch(q)));
  if (byPhone) params.push(likePattern(digits));
  return `(${foldSql(db, 'm.name')} LIKE ? ESCAPE '\\'${byPhone ? " OR m.phone LIKE ? ESCAPE '\\'" : ''})`;
}

export async function listMembers(db: RegistryDb, filter: MemberFilter, page: PageRequest): Promise<Page<RegistryMember>> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const equal = (column: 'unit' | 'scope' | 'status', value: string | undefined) => {
    if (value === undefined) return;
    where.push(`m.${column} = ?`);
    params.push(value);
  };
  equal('unit', filter.unit);
  equal('scope', filter.scope);
  equal('status', filter.status);
  if (page.after !== undefined) {
    where.push('m.member_id > ?');
    params.push(page.after);
  }
  const q = filter.q?.trim() ?? '';
  if (q !== '') where.push(nameOrPhoneMatch(db, q, params));
  params.push(page.limit + 1);
  const sql = `${selectMember}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.member_id LIMIT ?`;
  const rows = await db.all<MemberRow>(sql, params);
  return toPage('m', rows, page.limit, (row) => row.memberId, view);
}

/** One person by the ref of their ID number; null when nobody has it. */
export async function findMember(db: RegistryDb, ref: Buffer): Promise<RegistryMember | null> {
  const row = await db.get<MemberRow>(`${selectMember} WHERE m.id_ref = ?`, [ref]);
  return row === undefined ? null : view(row);
}

/** The list scopes a unit's members are in: what that unit's manager may see and publish. */
export async function scopesOfUnit(db: RegistryDb, unit: string): Promise<string[]> {
  return sortedBytewise(await db.column<string>('SELECT DISTINCT scope FROM members WHERE unit = ?', [unit]));
}

/** Every list scope some member is in: the scopes a registry publish can build (the console's /lists). */
export async function scopesWithMembers(db: RegistryDb): Promise<string[]> {
  return sortedBytewise(await db.column<string>('SELECT DISTINCT scope FROM members'));
}

/** Every unit some member is in, in Vietnamese order: the suggestions of the in/out log's unit filter. */
export async function unitsWithMembers(db: RegistryDb): Promise<string[]> {
  const collator = new Intl.Collator('vi');
  return (await db.column<string>('SELECT DISTINCT unit FROM members')).sort(collator.compare);
}

/** Scopes are ASCII (listScopeSchema); sorted here, the order is the same whatever the database's collation. */
function sortedBytewise(values: string[]): string[] {
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
