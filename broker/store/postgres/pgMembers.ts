import type pg from 'pg';
import type { MemberSummary } from '../centralStore.js';

/**
 * membersByRefs on PostgreSQL, as broker/registry/membersByRefs.ts: one statement for a page
 * of refs, each looked up through members' unique id_ref and the cards primary key.
 */

const hexRef = /^[0-9a-f]{64}$/;

const lookupSql = `
  WITH wanted (ref) AS (SELECT unnest($1::text[]))
  SELECT wanted.ref, m.name, m.phone, m.address, m.unit, m.scope, m.id_masked AS "idMasked", m.status
    FROM wanted JOIN members m ON m.id_ref = decode(wanted.ref, 'hex')
  UNION ALL
  SELECT wanted.ref, m.name, m.phone, m.address, m.unit, m.scope, m.id_masked AS "idMasked", m.status
    FROM wanted JOIN cards c ON c.card_ref = decode(wanted.ref, 'hex') JOIN members m ON m.member_id = c.member_id`;

type Row = MemberSummary & { readonly ref: string };

export class PgMembersLookup {
  constructor(private readonly pool: pg.Pool) {}

  async byRefs(refs: readonly string[]): Promise<Map<string, MemberSummary>> {
    const found = new Map<string, MemberSummary>();
    const wanted = [...new Set(refs.filter((ref) => hexRef.test(ref)))];
    if (wanted.length === 0) return found;
    for (const { ref, ...member } of (await this.pool.query<Row>(lookupSql, [wanted])).rows) found.set(ref, member);
    return found;
  }
}
