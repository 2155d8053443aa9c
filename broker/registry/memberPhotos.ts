import type { RegistryDb } from '../store/sql/registryDb.js';
import type { StoredPhoto } from './memberPhotoImage.js';

/**
 * Members' photos in the registry (the member_photos migration): one re-encoded JPEG per
 * member, kept by the central only. Lists are built from other tables, so a photo never
 * reaches a terminal. A member is named by their citizen ref, as everywhere in the registry.
 */

export interface PhotoInfo {
  readonly width: number;
  readonly height: number;
  readonly updatedAtMs: number;
}

/** Stores (or replaces) the member's photo; false when nobody has that ref. */
export async function setMemberPhoto(db: RegistryDb, idRef: Buffer, photo: StoredPhoto, nowMs: number): Promise<boolean> {
  // The member first, then a plain VALUES upsert: parameters in a SELECT list would need a
  // cast to bytea, which SQLite reads as NUMERIC and would turn the JPEG into a number.
  return db.transaction(async (tx) => {
    const memberId = await tx.value<number>('SELECT member_id FROM members WHERE id_ref = ?', [idRef]);
    if (memberId === undefined) return false;
    await tx.run(
      `INSERT INTO member_photos (member_id, jpeg, width, height, updated_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (member_id) DO UPDATE SET jpeg = excluded.jpeg, width = excluded.width, height = excluded.height, updated_at_ms = excluded.updated_at_ms`,
      [memberId, photo.jpeg, photo.width, photo.height, nowMs],
    );
    return true;
  });
}

export async function removeMemberPhoto(db: RegistryDb, idRef: Buffer): Promise<boolean> {
  return (await db.run('DELETE FROM member_photos WHERE member_id = (SELECT member_id FROM members WHERE id_ref = ?)', [idRef])) > 0;
}

export async function memberPhotoInfo(db: RegistryDb, idRef: Buffer): Promise<PhotoInfo | null> {
  return (
    (await db.get<PhotoInfo>(
      'SELECT p.width, p.height, p.updated_at_ms AS "updatedAtMs" FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = ?',
      [idRef],
    )) ?? null
  );
}

export async function memberPhotoJpeg(db: RegistryDb, idRef: Buffer): Promise<Buffer | null> {
  return (await db.value<Buffer>('SELECT p.jpeg FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = ?', [idRef])) ?? null;
}

/**
 * Finds the photo of whoever a scanned credential (a citizen ref or a card ref, as a list holds
 * it) belongs to; `what` is the column list to select from it (`p` is member_photos).
 */
function credentialPhotoSql(what: string): string {
  return `SELECT ${what} FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = ?
     UNION ALL
     SELECT ${what} FROM member_photos p JOIN cards c ON c.member_id = p.member_id WHERE c.card_ref = ?
     LIMIT 1`;
}

/** The photo of whoever a scanned credential belongs to. */
export async function photoOfCredential(db: RegistryDb, credentialRef: Buffer): Promise<Buffer | null> {
  return (await db.value<Buffer>(credentialPhotoSql('p.jpeg'), [credentialRef, credentialRef])) ?? null;
}

/** Whether whoever a scanned credential belongs to has a photo (the guard screen asks before it shows an <img>). */
export async function credentialHasPhoto(db: RegistryDb, credentialRef: Buffer): Promise<boolean> {
  return (await db.value(credentialPhotoSql('1'), [credentialRef, credentialRef])) !== undefined;
}
