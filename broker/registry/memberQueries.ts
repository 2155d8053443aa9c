import { refToHex } from '../../protocol/credentialRef.js';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import type { CentralDb } from '../store/sqliteSchema.js';
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
  SELECT m.member_id AS memberId, m.id_ref AS idRef, m.id_masked AS idMasked, m.name, m.phone, m.address, m.unit, m.scope, m.status,
    m.created_at_ms AS createdAtMs, m.updated_at_ms AS updatedAtMs,
    (SELECT c.card_id FROM cards c WHERE c.member_id = m.member_id AND c.revoked_at_ms IS NULL LIMIT 1) AS cardId
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
 * SQLite has no diacritic folding; the connection gets ours as a function. Registered per
 * call because the API and each CLI command have their own connection; better-sqlite3
 * replaces a function of the same name. A name search reads every row of the filter
 * (about a second per million members), which is why it stops at a page.
 */
export function registerFold(db: CentralDb): void {
  db.function('qrgate_fold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? foldForSearch(value) : null));
}

/**
 * The SQL condition (on `m`, qrgate_fold registered) for "part of the name, any case, with
 * or without diacritics, or part of the phone number when it has 3 digits or more"; its
 * parameters go into `params`. `phones: false` matches names only.
 */
export function nameOrPhoneMatch(q: string, params: Record<string, string | number>, phones = true): string {
  const digits = q.replace(/[\s.+-]/g, '');
  const byPhone = phones && /^\d{3,}$/.test(digits);
  params.name = likePattern(foldForSearch(q));
  if (byPhone) params.phone = likePattern(digits);
  return `(qrgate_fold(m.name) LIKE @name ESCAPE '\\'${byPhone ? " OR m.phone LIKE @phone ESCAPE '\\'" : ''})`;
}

export function listMembers(db: CentralDb, filter: MemberFilter, page: PageRequest): Page<RegistryMember> {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: page.limit + 1 };
  const equal = (column: 'unit' | 'scope' | 'status', value: string | undefined) => {
    if (value === undefined) return;
    where.push(`m.${column} = @${column}`);
    params[column] = value;
  };
  equal('unit', filter.unit);
  equal('scope', filter.scope);
  equal('status', filter.status);
  if (page.after !== undefined) {
    where.push('m.member_id > @after');
    params.after = page.after;
  }
  const q = filter.q?.trim() ?? '';
  if (q !== '') {
    registerFold(db);
    where.push(nameOrPhoneMatch(q, params));
  }
  const sql = `${selectMember}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.member_id LIMIT @limit`;
  const rows = db.prepare<Record<string, string | number>, MemberRow>(sql).all(params);
  return toPage('m', rows, page.limit, (row) => row.memberId, view);
}

/** One person by the ref of their ID number; null when nobody has it. */
export function findMember(db: CentralDb, ref: Buffer): RegistryMember | null {
  const row = db.prepare<[Buffer], MemberRow>(`${selectMember} WHERE m.id_ref = ?`).get(ref);
  return row === undefined ? null : view(row);
}

/** The list scopes a unit's members are in: what that unit's manager may see and publish. */
export function scopesOfUnit(db: CentralDb, unit: string): string[] {
  return db.prepare<[string], string>('SELECT DISTINCT scope FROM members WHERE unit = ? ORDER BY scope').pluck().all(unit);
}

/** Every list scope some member is in: the scopes a registry publish can build (the console's /lists). */
export function scopesWithMembers(db: CentralDb): string[] {
  return db.prepare<[], string>('SELECT DISTINCT scope FROM members ORDER BY scope').pluck().all();
}

/** Every unit some member is in, in Vietnamese order: the suggestions of the in/out log's unit filter. */
export function unitsWithMembers(db: CentralDb): string[] {
  const collator = new Intl.Collator('vi');
  return db.prepare<[], string>('SELECT DISTINCT unit FROM members').pluck().all().sort(collator.compare);
}
