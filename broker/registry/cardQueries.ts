import { refToHex } from '../../protocol/credentialRef.js';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import type { CentralDb } from '../store/sqliteSchema.js';
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

export function listCards(db: CentralDb, filter: CardFilter, page: PageRequest): Page<RegistryCard> {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: page.limit + 1 };
  if (filter.unit !== undefined) {
    where.push('m.unit = @unit');
    params.unit = filter.unit;
  }
  if (filter.scope !== undefined) {
    where.push('m.scope = @scope');
    params.scope = filter.scope;
  }
  if (filter.status !== undefined) where.push(filter.status === 'live' ? 'c.revoked_at_ms IS NULL' : 'c.revoked_at_ms IS NOT NULL');
  if (page.after !== undefined) {
    where.push('c.rowid > @after');
    params.after = page.after;
  }
  const rows = db
    .prepare<Record<string, string | number>, CardRow>(
      `SELECT c.rowid AS rowId, m.id_ref AS idRef, m.id_masked AS idMasked, m.name, m.unit, m.scope, c.card_id AS cardId,
         c.issued_at_ms AS issuedAtMs, c.revoked_at_ms AS revokedAtMs
       FROM cards c JOIN members m ON m.member_id = c.member_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.rowid LIMIT @limit`,
    )
    .all(params);
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
