import { refToHex } from '../../protocol/credentialRef.js';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import type { RegistryDb, SqlValue } from '../store/sql/registryDb.js';
import { msToIso, msToIsoOrNull } from '../store/time.js';
import type { PageRequest } from './memberQueries.js';
import { toPage, type Page } from './pageCursor.js';

/**
 * The cards issued, a page at a time: `GET /api/cards` and `qrgate cards list`. The printed
 * number is a working credential; whoever calls this shows it only to those who manage the
 * card's unit (the API filters managers to their unit).
 */

export const cardStates = ['live', 'revoked'] as const;
export type CardState = (typeof cardStates)[number];

export interface CardFilter {
  readonly unit?: string | undefined;
  readonly scope?: string | undefined;
  readonly status?: CardState | undefined;
}

export interface RegistryCard {
  /** The holder's citizen ref, hex (GET /api/members/{ref}). */
  readonly memberRef: string;
  readonly idMasked: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
  /** As printed: groups of four. */
  readonly cardNumber: string;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
}

interface CardRow {
  readonly rowId: number;
  readonly idRef: Buffer;
  readonly idMasked: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
  readonly cardId: string;
  readonly issuedAtMs: number;
  readonly revokedAtMs: number | null;
}

/** The cards' issue order as an integer key: SQLite's rowid, PostgreSQL's card_seq (pgSchema.ts). */
function cardKey(db: RegistryDb): string {
  return db.dialect === 'sqlite' ? 'c.rowid' : 'c.card_seq';
}

export async function listCards(db: RegistryDb, filter: CardFilter, page: PageRequest): Promise<Page<RegistryCard>> {
  const key = cardKey(db);
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.unit !== undefined) {
    where.push('m.unit = ?');
    params.push(filter.unit);
  }
  if (filter.scope !== undefined) {
    where.push('m.scope = ?');
    params.push(filter.scope);
  }
  if (filter.status !== undefined) where.push(filter.status === 'live' ? 'c.revoked_at_ms IS NULL' : 'c.revoked_at_ms IS NOT NULL');
  if (page.after !== undefined) {
    where.push(`${key} > ?`);
    params.push(page.after);
  }
  const rows = await db.all<CardRow>(
    `SELECT ${key} AS "rowId", m.id_ref AS "idRef", m.id_masked AS "idMasked", m.name, m.unit, m.scope, c.card_id AS "cardId",
       c.issued_at_ms AS "issuedAtMs", c.revoked_at_ms AS "revokedAtMs"
     FROM cards c JOIN members m ON m.member_id = c.member_id
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} LIMIT ?`,
    [...params, page.limit + 1],
  );
  return toPage('c', rows, page.limit, (row) => row.rowId, (row) => ({
    memberRef: refToHex(row.idRef),
    idMasked: row.idMasked,
    name: row.name,
    unit: row.unit,
    scope: row.scope,
    cardNumber: groupCardNumber(row.cardId),
    issuedAt: msToIso(row.issuedAtMs),
    revokedAt: msToIsoOrNull(row.revokedAtMs),
  }));
}
