import { randomBytes } from 'node:crypto';
import type { CentralDb } from '../../../broker/store/sqliteSchema.js';

/**
 * Members and cards written straight into the central's tables, so these tests do not
 * depend on the members import or card issuing code. Refs are random 32-byte values: the
 * publisher never looks inside them.
 */

export type MemberStatus = 'allow' | 'deny' | 'check';

export interface TestMember {
  readonly memberId: number;
  readonly idRef: Buffer;
}

export function addMember(db: CentralDb, scope: string, status: MemberStatus = 'allow'): TestMember {
  const idRef = randomBytes(32);
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
       VALUES (?, '*********123', 'Trần Thị B', '0900000000', 'Huế', 'unit-1', ?, ?, 0, 0)`,
    )
    .run(idRef, scope, status);
  return { memberId: Number(lastInsertRowid), idRef };
}

export function addMembers(db: CentralDb, scope: string, count: number, status: MemberStatus = 'allow'): TestMember[] {
  return db.transaction(() => Array.from({ length: count }, () => addMember(db, scope, status)))();
}

/** A live card of `member`; returns its ref. */
export function issueCard(db: CentralDb, member: TestMember): Buffer {
  const cardRef = randomBytes(32);
  db.prepare('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms) VALUES (?, ?, ?, 0)').run(
    cardRef,
    randomBytes(13).toString('hex'),
    member.memberId,
  );
  return cardRef;
}

export function revokeCard(db: CentralDb, cardRef: Buffer): void {
  db.prepare('UPDATE cards SET revoked_at_ms = 1 WHERE card_ref = ?').run(cardRef);
}

export function setStatus(db: CentralDb, member: TestMember, status: MemberStatus): void {
  db.prepare('UPDATE members SET status = ? WHERE member_id = ?').run(status, member.memberId);
}

export function removeMember(db: CentralDb, member: TestMember): void {
  db.prepare('DELETE FROM members WHERE member_id = ?').run(member.memberId);
}

/** What the scope's list must hold: ref (hex) -> status, from the tables themselves. */
export function expectedList(db: CentralDb, scope: string): Map<string, MemberStatus | 'revoked'> {
  const rows = db
    .prepare(
      `SELECT id_ref AS ref, status FROM members WHERE scope = @scope
       UNION ALL SELECT c.card_ref, CASE WHEN c.revoked_at_ms IS NULL THEN m.status ELSE 'revoked' END
       FROM cards c JOIN members m USING (member_id) WHERE m.scope = @scope`,
    )
    .all({ scope }) as { ref: Buffer; status: MemberStatus | 'revoked' }[];
  return new Map(rows.map((row) => [row.ref.toString('hex'), row.status]));
}
