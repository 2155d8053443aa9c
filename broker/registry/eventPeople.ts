import type { RegistryDb, SqlValue } from '../store/sql/registryDb.js';
import { foldForSearch, foldSql, likePattern, nameOrPhoneMatch } from './memberQueries.js';

/**
 * The in/out log's filters by who scanned (issue 14 point 4), turned into the credential
 * refs the store filters events by (EventQuery.credentialRefs): each matching member's
 * ID-number ref and every card they were ever issued (revoked ones too: the log is history).
 * Resolved once per request, so a CSV download or a live feed does not search the registry
 * again for every page or event.
 */
export interface EventPeopleFilter {
  /** The person's unit, exactly as registered. */
  readonly unit?: string | undefined;
  /**
   * Part of the person's address, as it is written in the registry (a ward, a district, a
   * street), compared like a name search: any case, with or without diacritics, đ as d, so
   * "ba dinh" finds "Phường Phúc Xá, Quận Ba Đình".
   */
  readonly residence?: string | undefined;
  /** Part of the name (any case, diacritics optional) or of the phone number (3 digits or more). */
  readonly person?: string | undefined;
  /** One member by the ref of their ID number (a typed number is hashed before it gets here). */
  readonly memberRef?: Buffer | undefined;
}

/** What the asker may match people on (broker/access/memberView.ts: what they may see of them). */
export interface PeopleReach {
  /** Name, phone, address and ID match only this unit's members (a manager's own); the `unit` filter itself is not narrowed. */
  readonly withinUnit?: string | undefined;
  /** Names but not phone numbers (a guard sees names, never phones). */
  readonly namesOnly?: boolean | undefined;
}

export function hasPeopleFilter(filter: EventPeopleFilter): boolean {
  return filter.unit !== undefined || filter.residence !== undefined || filter.person !== undefined || filter.memberRef !== undefined;
}

/** The hex refs (as events carry them) of everyone the filter picks; empty when it picks nobody. */
export async function credentialRefsOfPeople(db: RegistryDb, filter: EventPeopleFilter, reach: PeopleReach = {}): Promise<string[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.unit !== undefined) {
    where.push('m.unit = ?');
    params.push(filter.unit);
  }
  const personal = filter.residence !== undefined || filter.person !== undefined || filter.memberRef !== undefined;
  if (personal && reach.withinUnit !== undefined) {
    where.push('m.unit = ?');
    params.push(reach.withinUnit);
  }
  if (filter.residence !== undefined) {
    where.push(`${foldSql(db, 'm.address')} LIKE ? ESCAPE '\\'`);
    params.push(likePattern(foldForSearch(filter.residence)));
  }
  if (filter.person !== undefined) where.push(nameOrPhoneMatch(db, filter.person, params, reach.namesOnly !== true));
  if (filter.memberRef !== undefined) {
    where.push('m.id_ref = ?');
    params.push(filter.memberRef);
  }
  const picked = `SELECT m.member_id, m.id_ref FROM members m${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  // Refs come back as bytes and are written as hex here: the engines spell hex() differently.
  const refs = await db.column<Buffer>(
    `WITH picked AS (${picked})
     SELECT id_ref FROM picked
     UNION ALL
     SELECT c.card_ref FROM cards c JOIN picked ON c.member_id = picked.member_id`,
    params,
  );
  return refs.map((ref) => ref.toString('hex'));
}
