import type { RefHasher } from '../../protocol/credentialRef.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { checkMemberField, checkMemberRow, maskIdNumber, memberDetailFields, type MemberColumn, type MemberDetails } from './memberRow.js';

/**
 * One person at a time: `qrgate members update`, `set-status` and `remove`. The person is
 * found by the ref of their ID number, never by the number itself; replies and errors show
 * the masked form only.
 */

export type MemberProblem = 'member-unknown' | 'member-invalid' | 'member-exists';

export class MemberError extends Error {
  constructor(
    readonly code: MemberProblem,
    message: string,
  ) {
    super(message);
    this.name = 'MemberError';
  }
}

/** A checked, normalised ID number and what stands for it everywhere else. */
export interface MemberKey {
  readonly ref: Buffer;
  readonly idMasked: string;
}

/**
 * Checks an ID number typed as an option (or sent in an API body: `label` names it as the
 * caller knows it), by the same rule as the members file.
 */
export function memberKey(hasher: RefHasher, rawIdNumber: string, label = '--id-number'): MemberKey {
  const id = checkMemberField('idNumber', rawIdNumber);
  if (!id.ok) throw new MemberError('member-invalid', `${label} ${id.message}`);
  return { ref: hasher('citizen', id.value), idMasked: maskIdNumber(id.value) };
}

export type MemberChanges = Partial<MemberDetails>;

/**
 * Checks new values given as options (`--phone …`) or API fields (`label` then names them
 * plainly) by the members file's rules, reporting every bad one at once.
 */
export function checkMemberChanges(raw: Partial<Record<keyof MemberDetails, string>>, label = (field: string) => `--${field}`): MemberChanges {
  const changes: Partial<Record<keyof MemberDetails, string>> = {};
  const problems: string[] = [];
  for (const field of memberDetailFields) {
    const value = raw[field];
    if (value === undefined) continue;
    const checked = checkMemberField(field, value);
    if (checked.ok) changes[field] = checked.value;
    else problems.push(`${label(field)} ${checked.message}`);
  }
  if (problems.length > 0) throw new MemberError('member-invalid', problems.join('; '));
  return changes as MemberChanges;
}

export interface UpdateResult {
  readonly idMasked: string;
  /** The fields whose value changed; empty when everything already matched. */
  readonly changed: readonly (keyof MemberDetails)[];
}

interface MemberRecord extends MemberDetails {
  readonly member_id: number;
}

const unknown = (key: MemberKey) => new MemberError('member-unknown', `no member is registered with ID number ${key.idMasked}`);

/**
 * Sets the given fields. `updated_at_ms` moves only when a value really changes, as in an
 * import. The values must come from checkMemberField (the CLI's options are checked there).
 */
export async function updateMember(db: RegistryDb, key: MemberKey, changes: MemberChanges, nowMs: number): Promise<UpdateResult> {
  return db.transaction(async (tx): Promise<UpdateResult> => {
    const current = await tx.get<MemberRecord>('SELECT member_id, name, phone, address, unit, scope, status FROM members WHERE id_ref = ?', [key.ref]);
    if (current === undefined) throw unknown(key);
    const changed = memberDetailFields.filter((field) => changes[field] !== undefined && changes[field] !== current[field]);
    if (changed.length > 0) {
      // Column names come from memberDetailFields, never from input.
      const set = changed.map((field) => `${field} = ?`).join(', ');
      await tx.run(`UPDATE members SET ${set}, updated_at_ms = ? WHERE member_id = ?`, [...changed.map((field) => changes[field]!), nowMs, current.member_id]);
    }
    return { idMasked: key.idMasked, changed };
  });
}

export interface RemoveResult {
  readonly idMasked: string;
  /** Cards deleted with the member (live and revoked). */
  readonly cards: number;
}

/** Deletes the member; their cards go with them (ON DELETE CASCADE on both engines; openCentralDb enables foreign keys). */
export async function removeMember(db: RegistryDb, key: MemberKey): Promise<RemoveResult> {
  return db.transaction(async (tx): Promise<RemoveResult> => {
    const memberId = await tx.value<number>('SELECT member_id FROM members WHERE id_ref = ?', [key.ref]);
    if (memberId === undefined) throw unknown(key);
    const cards = (await tx.value<number>('SELECT count(*) FROM cards WHERE member_id = ?', [memberId]))!;
    await tx.run('DELETE FROM members WHERE member_id = ?', [memberId]);
    return { idMasked: key.idMasked, cards };
  });
}

export interface AddResult {
  readonly ref: Buffer;
  readonly idMasked: string;
  readonly unit: string;
  readonly scope: string;
  readonly status: MemberDetails['status'];
}

/**
 * Registers one person, checked exactly as a row of the members file. An ID number already
 * registered is refused rather than overwritten: changing someone is `updateMember`'s job,
 * and a typo in a new person's number must not silently replace another person.
 */
export async function addMember(db: RegistryDb, hasher: RefHasher, raw: Readonly<Record<MemberColumn, string>>, nowMs: number): Promise<AddResult> {
  const checked = checkMemberRow(raw);
  if (!checked.ok) throw new MemberError('member-invalid', checked.problems.map((p) => `${p.field} ${p.message}`).join('; '));
  const { idNumber, ...details } = checked.row;
  const key = { ref: hasher('citizen', idNumber), idMasked: maskIdNumber(idNumber) };
  const inserted = await db.run(
    `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_ref) DO NOTHING`,
    [key.ref, key.idMasked, details.name, details.phone, details.address, details.unit, details.scope, details.status, nowMs, nowMs],
  );
  if (inserted === 0) throw new MemberError('member-exists', `a member is already registered with ID number ${key.idMasked}`);
  return { ...key, unit: details.unit, scope: details.scope, status: details.status };
}
