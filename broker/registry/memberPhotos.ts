import type { CentralDb } from '../store/sqliteSchema.js';
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
export function setMemberPhoto(db: CentralDb, idRef: Buffer, photo: StoredPhoto, nowMs: number): boolean {
  const changed = db
    .prepare(
      `INSERT INTO member_photos (member_id, jpeg, width, height, updated_at_ms)
       SELECT member_id, @jpeg, @width, @height, @nowMs FROM members WHERE id_ref = @idRef
       ON CONFLICT (member_id) DO UPDATE SET jpeg = excluded.jpeg, width = excluded.width, height = excluded.height, updated_at_ms = excluded.updated_at_ms`,
    )
    .run({ idRef, jpeg: photo.jpeg, width: photo.width, height: photo.height, nowMs }).changes;
  return changed > 0;
}

export function removeMemberPhoto(db: CentralDb, idRef: Buffer): boolean {
  return db.prepare('DELETE FROM member_photos WHERE member_id = (SELECT member_id FROM members WHERE id_ref = ?)').run(idRef).changes > 0;
}

export function memberPhotoInfo(db: CentralDb, idRef: Buffer): PhotoInfo | null {
  return (
    db
      .prepare<[Buffer], PhotoInfo>(
        'SELECT p.width, p.height, p.updated_at_ms AS updatedAtMs FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = ?',
      )
      .get(idRef) ?? null
  );
}

export function memberPhotoJpeg(db: CentralDb, idRef: Buffer): Buffer | null {
  return (db.prepare('SELECT p.jpeg FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = ?').pluck().get(idRef) as Buffer | undefined) ?? null;
}

/**
 * Finds the photo of whoever a scanned credential (a citizen ref or a card ref, as a list holds
 * it) belongs to; `what` is the column list to select from it (`p` is member_photos).
 */
function credentialPhotoSql(what: string): string {
  return `SELECT ${what} FROM member_photos p JOIN members m ON m.member_id = p.member_id WHERE m.id_ref = @ref
     UNION ALL
     SELECT ${what} FROM member_photos p JOIN cards c ON c.member_id = p.member_id WHERE c.card_ref = @ref
     LIMIT 1`;
}

/** The photo of whoever a scanned credential belongs to. */
export function photoOfCredential(db: CentralDb, credentialRef: Buffer): Buffer | null {
  return (db.prepare(credentialPhotoSql('p.jpeg')).pluck().get({ ref: credentialRef }) as Buffer | undefined) ?? null;
}

/** Whether whoever a scanned credential belongs to has a photo (the guard screen asks before it shows an <img>). */
export function credentialHasPhoto(db: CentralDb, credentialRef: Buffer): boolean {
  return db.prepare(credentialPhotoSql('1')).pluck().get({ ref: credentialRef }) !== undefined;
}
