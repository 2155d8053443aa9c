import type { MemberSummary } from '../store/centralStore.js';
import type { CentralDb } from '../store/sqliteSchema.js';

/**
 * SqliteCentralStore.membersByRefs: who is behind each credential ref of a page of events.
 * One statement for the whole page: the refs go in as one JSON array, and each is looked up
 * through `members`' unique id_ref index and the `cards` primary key.
 */

const hexRef = /^[0-9a-f]{64}$/;

const lookupSql = `
  WITH wanted (ref) AS (SELECT value FROM json_each(?))
  SELECT wanted.ref AS ref, m.name, m.phone, m.address, m.unit, m.scope, m.id_masked AS idMasked, m.status
    FROM wanted JOIN members m ON m.id_ref = unhex(wanted.ref)
  UNION ALL
  SELECT wanted.ref AS ref, m.name, m.phone, m.address, m.unit, m.scope, m.id_masked AS idMasked, m.status
    FROM wanted JOIN cards c ON c.card_ref = unhex(wanted.ref) JOIN members m ON m.member_id = c.member_id
`;

type Row = MemberSummary & { readonly ref: string };

export class SqliteMembersLookup {
  private readonly lookup;

  constructor(db: CentralDb) {
    this.lookup = db.prepare(lookupSql);
  }

  byRefs(refs: readonly string[]): Map<string, MemberSummary> {
    const found = new Map<string, MemberSummary>();
    const wanted = [...new Set(refs.filter((ref) => hexRef.test(ref)))];
    if (wanted.length === 0) return found;
    for (const { ref, ...member } of this.lookup.all(JSON.stringify(wanted)) as Row[]) found.set(ref, member);
    return found;
  }
}

/** The query, for the query-plan test. */
export const membersByRefsSql = lookupSql;
