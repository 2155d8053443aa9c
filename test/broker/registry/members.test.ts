import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { currentRollCalls, markSafe, marksOf, rollCallById, startRollCall } from '../../../broker/inside/rollCalls.js';
import { credentialRefsOfPeople } from '../../../broker/registry/eventPeople.js';
import { findMember, listMembers, scopesOfUnit, scopesWithMembers, unitsWithMembers, type MemberFilter } from '../../../broker/registry/memberQueries.js';
import { credentialHasPhoto, memberPhotoInfo, memberPhotoJpeg, photoOfCredential, removeMemberPhoto, setMemberPhoto } from '../../../broker/registry/memberPhotos.js';
import type { MemberColumn } from '../../../broker/registry/memberRow.js';
import { addMember, MemberError, memberKey, removeMember, updateMember } from '../../../broker/registry/members.js';
import { decodePageCursor } from '../../../broker/registry/pageCursor.js';
import type { RegistryDb } from '../../../broker/store/sql/registryDb.js';
import { createRefHasher, refKeyLength, refToHex } from '../../../protocol/credentialRef.js';
import { describeOnEachRegistry } from '../../helpers/registryEngines.js';

/**
 * The members area's contract on both engines (issue 15 point 4): one person at a time, the
 * pages and the search, photos, the in/out log's people filter and roll calls give the same
 * answers on SQLite and PostgreSQL.
 */

const hasher = createRefHasher(randomBytes(refKeyLength));

const people: Readonly<Record<MemberColumn, string>>[] = [
  { name: 'Nguyễn Văn An', phone: '0905123456', address: 'Phường Phúc Xá, Quận Ba Đình, Hà Nội', unit: 'Công ty May Huế', scope: 'site-a', idNumber: '046085000101', status: 'allow' },
  { name: 'Trần Thị Bích Hằng', phone: '+84 914.000-111', address: '', unit: 'Công ty May Huế', scope: 'site-b', idNumber: '046185000102', status: 'check' },
  { name: 'Đặng Hữu Phúc', phone: '0236 555 7788', address: '12 Lê Lợi, Huế', unit: 'Tổ 5', scope: 'site-a', idNumber: '191234567', status: 'deny' },
  { name: 'NGUYỄN THỊ LAN', phone: '0987654321', address: 'Ấp Đông, Bà Rịa', unit: 'Ánh Dương', scope: 'site-c', idNumber: '046085000104', status: 'allow' },
];

async function register(db: RegistryDb, nowMs = 1_000) {
  const added = [];
  for (const person of people) added.push(await addMember(db, hasher, person, nowMs));
  return added;
}

async function addCard(db: RegistryDb, idRef: Buffer, cardId: string, revokedAtMs: number | null = null): Promise<Buffer> {
  const cardRef = randomBytes(32);
  await db.run('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) SELECT ?, ?, member_id, 5, CAST(? AS bigint) FROM members WHERE id_ref = ?', [
    cardRef,
    cardId,
    revokedAtMs,
    idRef,
  ]);
  return cardRef;
}

const names = async (db: RegistryDb, filter: MemberFilter) => (await listMembers(db, filter, { limit: 50 })).items.map((member) => member.name);

describeOnEachRegistry('members registry', (registry) => {
  it('adds a person once, finds them by ref with masked ID and live card, and refuses the same ID number again', async () => {
    const db = registry();
    const [an] = await register(db);
    expect(an).toMatchObject({ idMasked: '*********101', unit: 'Công ty May Huế', scope: 'site-a', status: 'allow' });
    await addCard(db, an!.ref, 'OLD0OLD0OLD0OLD0', 3);
    await addCard(db, an!.ref, 'ABCD2345EFGH6789');
    expect(await findMember(db, an!.ref)).toEqual({
      ref: refToHex(an!.ref),
      idMasked: '*********101',
      name: 'Nguyễn Văn An',
      phone: '0905123456',
      address: 'Phường Phúc Xá, Quận Ba Đình, Hà Nội',
      unit: 'Công ty May Huế',
      scope: 'site-a',
      status: 'allow',
      cardNumber: 'ABCD 2345 EFGH 6789',
      createdAt: '1970-01-01T00:00:01.000Z',
      updatedAt: '1970-01-01T00:00:01.000Z',
    });
    expect(await findMember(db, randomBytes(32))).toBeNull();
    const again = await addMember(db, hasher, { ...people[0]!, name: 'Someone Else' }, 2_000).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(MemberError);
    expect(again).toMatchObject({ code: 'member-exists', message: 'a member is already registered with ID number *********101' });
    expect((await findMember(db, an!.ref))!.name).toBe('Nguyễn Văn An');
  });

  it('updates only what changed, moving updated_at only then; removes a person with their cards', async () => {
    const db = registry();
    const [an] = await register(db);
    const key = memberKey(hasher, people[0]!.idNumber);
    expect(await updateMember(db, key, { phone: '0905123456', unit: 'Tổ 5' }, 2_000)).toEqual({ idMasked: '*********101', changed: ['unit'] });
    expect(await findMember(db, an!.ref)).toMatchObject({ unit: 'Tổ 5', phone: '0905123456', updatedAt: '1970-01-01T00:00:02.000Z' });
    expect(await updateMember(db, key, { unit: 'Tổ 5' }, 3_000)).toEqual({ idMasked: '*********101', changed: [] });
    expect(await findMember(db, an!.ref)).toMatchObject({ updatedAt: '1970-01-01T00:00:02.000Z' });
    await addCard(db, an!.ref, 'ABCD2345EFGH6789');
    await addCard(db, an!.ref, 'OLD0OLD0OLD0OLD0', 3);
    expect(await removeMember(db, key)).toEqual({ idMasked: '*********101', cards: 2 });
    expect(await findMember(db, an!.ref)).toBeNull();
    expect(await db.value('SELECT count(*) FROM cards')).toBe(0);
    const unknown = memberKey(hasher, '046085000999');
    await expect(updateMember(db, unknown, { unit: 'x' }, 4_000)).rejects.toMatchObject({ code: 'member-unknown' });
    await expect(removeMember(db, unknown)).rejects.toMatchObject({ code: 'member-unknown', message: 'no member is registered with ID number *********999' });
  });

  it('pages in registration order with a cursor, and filters by unit, scope and status', async () => {
    const db = registry();
    await register(db);
    const first = await listMembers(db, {}, { limit: 3 });
    expect(first.items.map((m) => m.name)).toEqual(['Nguyễn Văn An', 'Trần Thị Bích Hằng', 'Đặng Hữu Phúc']);
    const after = decodePageCursor('m', first.nextCursor!);
    const second = await listMembers(db, {}, { limit: 3, after: after! });
    expect(second).toEqual({ items: [expect.objectContaining({ name: 'NGUYỄN THỊ LAN' })], nextCursor: null });
    expect(await names(db, { unit: 'Công ty May Huế' })).toEqual(['Nguyễn Văn An', 'Trần Thị Bích Hằng']);
    expect(await names(db, { scope: 'site-a', status: 'deny' })).toEqual(['Đặng Hữu Phúc']);
    expect(await scopesOfUnit(db, 'Công ty May Huế')).toEqual(['site-a', 'site-b']);
    expect(await scopesWithMembers(db)).toEqual(['site-a', 'site-b', 'site-c']);
    // Vietnamese order, not the database's: Ánh before Công, Tổ last.
    expect(await unitsWithMembers(db)).toEqual(['Ánh Dương', 'Công ty May Huế', 'Tổ 5']);
  });

  it('searches names in any case with or without diacritics (đ as d), and phone numbers by 3 digits or more', async () => {
    const db = registry();
    await register(db);
    expect(await names(db, { q: 'nguyen' })).toEqual(['Nguyễn Văn An', 'NGUYỄN THỊ LAN']);
    expect(await names(db, { q: 'NGUYỄN' })).toEqual(['Nguyễn Văn An', 'NGUYỄN THỊ LAN']);
    expect(await names(db, { q: 'Nguye\u0302\u0303n' })).toEqual(['Nguyễn Văn An', 'NGUYỄN THỊ LAN']); // typed with combining marks
    expect(await names(db, { q: 'thi' })).toEqual(['Trần Thị Bích Hằng', 'NGUYỄN THỊ LAN']);
    expect(await names(db, { q: 'dang huu' })).toEqual(['Đặng Hữu Phúc']);
    expect(await names(db, { q: 'ĐẶNG' })).toEqual(['Đặng Hữu Phúc']);
    expect(await names(db, { q: 'bich hang' })).toEqual(['Trần Thị Bích Hằng']);
    expect(await names(db, { q: 'hằng' })).toEqual(['Trần Thị Bích Hằng']);
    // "an" is in "An", "Hằng", "Lan" and "Trần": diacritics folded, every one of them.
    expect(await names(db, { q: 'an', unit: 'Công ty May Huế' })).toEqual(['Nguyễn Văn An', 'Trần Thị Bích Hằng']);
    expect(await names(db, { q: '100%' })).toEqual([]);
    expect(await names(db, { q: 'a_' })).toEqual([]);
    // Phones as typed, with spaces, dots, dashes or a "+".
    expect(await names(db, { q: '0905 123' })).toEqual(['Nguyễn Văn An']);
    expect(await names(db, { q: '+84 914' })).toEqual(['Trần Thị Bích Hằng']);
    expect(await names(db, { q: '555-77' })).toEqual(['Đặng Hữu Phúc']);
    expect(await names(db, { q: '654' })).toEqual(['NGUYỄN THỊ LAN']);
    // Two digits are too few to search phones by: every phone has them.
    expect(await names(db, { q: '09' })).toEqual([]);
  });

  it('keeps one photo per member, found by ID ref or card ref, replaced and removed', async () => {
    const db = registry();
    const [an, hang] = await register(db);
    const cardRef = await addCard(db, an!.ref, 'ABCD2345EFGH6789');
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0, 4]);
    expect(await setMemberPhoto(db, randomBytes(32), { jpeg, width: 1, height: 1 }, 10)).toBe(false);
    expect(await setMemberPhoto(db, an!.ref, { jpeg, width: 320, height: 240 }, 10)).toBe(true);
    expect(await memberPhotoInfo(db, an!.ref)).toEqual({ width: 320, height: 240, updatedAtMs: 10 });
    expect(await memberPhotoJpeg(db, an!.ref)).toEqual(jpeg);
    expect(await photoOfCredential(db, cardRef)).toEqual(jpeg);
    expect(await credentialHasPhoto(db, an!.ref)).toBe(true);
    expect(await credentialHasPhoto(db, hang!.ref)).toBe(false);
    const other = Buffer.from([0xff, 0xd8, 9, 9]);
    expect(await setMemberPhoto(db, an!.ref, { jpeg: other, width: 240, height: 320 }, 20)).toBe(true);
    expect(await photoOfCredential(db, an!.ref)).toEqual(other);
    expect(await memberPhotoInfo(db, an!.ref)).toEqual({ width: 240, height: 320, updatedAtMs: 20 });
    expect(await removeMemberPhoto(db, an!.ref)).toBe(true);
    expect(await removeMemberPhoto(db, an!.ref)).toBe(false);
    expect(await photoOfCredential(db, cardRef)).toBeNull();
    expect(await memberPhotoInfo(db, an!.ref)).toBeNull();
  });

  it('turns the in/out log people filters into ID and card refs, within what the asker may match', async () => {
    const db = registry();
    const [an, hang, phuc] = await register(db);
    const live = await addCard(db, an!.ref, 'ABCD2345EFGH6789');
    const revoked = await addCard(db, an!.ref, 'OLD0OLD0OLD0OLD0', 3);
    const sorted = (refs: string[]) => [...refs].sort();
    const hex = (...refs: Buffer[]) => sorted(refs.map((ref) => ref.toString('hex')));
    expect(sorted(await credentialRefsOfPeople(db, { residence: 'ba dinh' }))).toEqual(hex(an!.ref, live, revoked));
    expect(sorted(await credentialRefsOfPeople(db, { residence: 'LÊ LỢI' }))).toEqual(hex(phuc!.ref));
    expect(sorted(await credentialRefsOfPeople(db, { unit: 'Công ty May Huế' }))).toEqual(hex(an!.ref, live, revoked, hang!.ref));
    expect(sorted(await credentialRefsOfPeople(db, { person: 'phuc' }))).toEqual(hex(phuc!.ref));
    expect(sorted(await credentialRefsOfPeople(db, { person: '914 000' }))).toEqual(hex(hang!.ref));
    // A guard matches names only, a manager only their own unit's people.
    expect(await credentialRefsOfPeople(db, { person: '914 000' }, { namesOnly: true })).toEqual([]);
    expect(await credentialRefsOfPeople(db, { person: 'phuc' }, { withinUnit: 'Công ty May Huế' })).toEqual([]);
    expect(sorted(await credentialRefsOfPeople(db, { memberRef: hang!.ref }, { withinUnit: 'Công ty May Huế' }))).toEqual(hex(hang!.ref));
    expect(await credentialRefsOfPeople(db, { residence: 'nowhere' })).toEqual([]);
  });

  it('keeps roll calls per unit, the newest current, each person marked once', async () => {
    const db = registry();
    const first = await startRollCall(db, 'Tổ 5', 'user:lan', 1_000);
    const other = await startRollCall(db, '', 'user:mai', 1_500);
    const second = await startRollCall(db, 'Tổ 5', 'user:mai', 2_000);
    expect(second).toEqual({ id: second.id, unit: 'Tổ 5', startedAt: '1970-01-01T00:00:02.000Z', startedBy: 'user:mai' });
    expect(second.id).toBeGreaterThan(first.id);
    const current = await currentRollCalls(db, ['Tổ 5', '', 'Tổ 9', 'Tổ 5']);
    expect([...current.entries()]).toEqual([
      ['Tổ 5', second],
      ['', other],
    ]);
    expect(await rollCallById(db, first.id)).toEqual(first);
    expect(await rollCallById(db, 999_999)).toBeNull();
    const ref = 'ab'.repeat(32);
    expect(await markSafe(db, second.id, ref, 'user:lan', 3_000)).toBe(true);
    expect(await markSafe(db, second.id, ref, 'user:mai', 4_000)).toBe(false);
    expect(await marksOf(db, second.id)).toEqual(new Map([[ref, { at: '1970-01-01T00:00:03.000Z', by: 'user:lan' }]]));
    expect(await marksOf(db, first.id)).toEqual(new Map());
  });
});
