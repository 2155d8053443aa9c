import { randomBytes } from 'node:crypto';
import type { RegistryDb } from '../../../broker/store/sql/registryDb.js';

/**
 * Members and cards written straight into the registry's tables (either engine), so these
 * tests do not depend on the members import or card issuing code. Refs are random 32-byte
 * values: the publisher never looks inside them.
 */

export type MemberStatus = 'allow' | 'deny' | 'check';

export interface TestMember {
  readonly memberId: number;
  readonly idRef: Buffer;
}

const memberColumns = 'id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms';
const memberValues = "(?, '*********123', 'Trần Thị B', '0900000000', 'Huế', 'unit-1', ?, ?, 0, 0)";

export async function addMember(db: RegistryDb, scope: string, status: MemberStatus = 'allow'): Promise<TestMember> {
  return (await addMembers(db, scope, 1, status))[0]!;
}

/** `count` members of `scope`, a thousand rows per statement. */
export async function addMembers(db: RegistryDb, scope: string, count: number, status: MemberStatus = 'allow'): Promise<TestMember[]> {
  const added: TestMember[] = [];
  for (let start = 0; start < count; start += 1000) {
    const refs = Array.from({ length: Math.min(1000, count - start) }, () => randomBytes(32));
    const rows = await db.all<{ memberId: number; idRef: Buffer }>(
      `INSERT INTO members (${memberColumns}) VALUES ${refs.map(() => memberValues).join(', ')} RETURNING member_id AS "memberId", id_ref AS "idRef"`,
      refs.flatMap((ref) => [ref, scope, status]),
    );
    added.push(...rows);
  }
  return added;
}

/** A live card of `member`; returns its ref. */
export async function issueCard(db: RegistryDb, member: TestMember): Promise<Buffer> {
  const cardRef = randomBytes(32);
  await db.run('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms) VALUES (?, ?, ?, 0)', [cardRef, randomBytes(13).toString('hex'), member.memberId]);
  return cardRef;
}

/** A live card for each of `members`, a thousand rows per statement; returns their refs in the same order. */
export async function issueCards(db: RegistryDb, members: readonly TestMember[]): Promise<Buffer[]> {
  const refs = members.map(() => randomBytes(32));
  for (let start = 0; start < members.length; start += 1000) {
    const chunk = members.slice(start, start + 1000);
    await db.run(
      `INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms) VALUES ${chunk.map(() => '(?, ?, ?, 0)').join(', ')}`,
      chunk.flatMap((member, i) => [refs[start + i]!, randomBytes(13).toString('hex'), member.memberId]),
    );
  }
  return refs;
}

export async function revokeCard(db: RegistryDb, cardRef: Buffer): Promise<void> {
  await db.run('UPDATE cards SET revoked_at_ms = 1 WHERE card_ref = ?', [cardRef]);
}

export async function setStatus(db: RegistryDb, member: TestMember, status: MemberStatus): Promise<void> {
  await db.run('UPDATE members SET status = ? WHERE member_id = ?', [status, member.memberId]);
}

export async function removeMember(db: RegistryDb, member: TestMember): Promise<void> {
  await db.run('DELETE FROM members WHERE member_id = ?', [member.memberId]);
}

/** What the scope's list must hold: ref (hex) -> status, from the tables themselves. */
export async function expectedList(db: RegistryDb, scope: string): Promise<Map<string, MemberStatus | 'revoked'>> {
  const rows = await db.all<{ ref: Buffer; status: MemberStatus | 'revoked' }>(
    `SELECT id_ref AS ref, status FROM members WHERE scope = ?
     UNION ALL SELECT c.card_ref, CASE WHEN c.revoked_at_ms IS NULL THEN m.status ELSE 'revoked' END
     FROM cards c JOIN members m ON m.member_id = c.member_id WHERE m.scope = ?`,
    [scope, scope],
  );
  return new Map(rows.map((row) => [row.ref.toString('hex'), row.status]));
}
