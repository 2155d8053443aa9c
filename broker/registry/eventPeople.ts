import type { CentralDb } from '../store/sqliteSchema.js';
import { foldForSearch, likePattern, nameOrPhoneMatch, registerFold } from './memberQueries.js';

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
export function credentialRefsOfPeople(db: CentralDb, filter: EventPeopleFilter, reach: PeopleReach = {}): string[] {
  const where: string[] = [];
  const params: Record<string, string | number | Buffer> = {};
  if (filter.unit !== undefined) {
    where.push('m.unit = @unit');
    params.unit = filter.unit;
  }
  const personal = filter.residence !== undefined || filter.person !== undefined || filter.memberRef !== undefined;
  if (personal && reach.withinUnit !== undefined) {
    where.push('m.unit = @withinUnit');
    params.withinUnit = reach.withinUnit;
  }
  if (filter.residence !== undefined || filter.person !== undefined) registerFold(db);
  if (filter.residence !== undefined) {
    where.push("qrgate_fold(m.address) LIKE @residence ESCAPE '\\'");
    params.residence = likePattern(foldForSearch(filter.residence));
  }
  if (filter.person !== undefined) where.push(nameOrPhoneMatch(filter.person, params as Record<string, string | number>, reach.namesOnly !== true));
  if (filter.memberRef !== undefined) {
    where.push('m.id_ref = @memberRef');
    params.memberRef = filter.memberRef;
  }
  const picked = `SELECT m.member_id, m.id_ref FROM members m${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return db
    .prepare<Record<string, string | number | Buffer>, string>(
      `WITH picked AS (${picked})
       SELECT lower(hex(id_ref)) FROM picked
       UNION ALL
       SELECT lower(hex(c.card_ref)) FROM cards c JOIN picked ON c.member_id = picked.member_id`,
    )
    .pluck()
    .all(params);
}
