import { loadCentralConfig, type CentralConfig } from '../../../broker/config.js';
import { registryRefHasher, withRegistry } from '../../../broker/registry/registryDb.js';
import type { RegistryDb } from '../../../broker/store/sql/registryDb.js';
import type { RefHasher } from '../../../protocol/credentialRef.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';

/**
 * Registered people written straight into the `members` table (the cards tests do not
 * depend on `qrgate members import`), on either engine; and a central folder holding them,
 * for the commands' tests.
 */

export interface TestMember {
  /** 12-digit CCCD number; only its citizen ref and masked form are stored. */
  readonly idNumber: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
  readonly status?: 'allow' | 'deny' | 'check';
}

/** Inserts `members`, a thousand rows per statement. */
export async function insertMembers(db: RegistryDb, hasher: RefHasher, members: readonly TestMember[]): Promise<void> {
  for (let start = 0; start < members.length; start += 1000) {
    const chunk = members.slice(start, start + 1000);
    await db.run(
      `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
       VALUES ${chunk.map(() => "(?, ?, ?, '0900000000', 'Huế', ?, ?, ?, 0, 0)").join(', ')}`,
      chunk.flatMap((m) => [hasher('citizen', m.idNumber), `*********${m.idNumber.slice(-3)}`, m.name, m.unit, m.scope, m.status ?? 'allow']),
    );
  }
}

export interface RegistrySite {
  readonly centralConfig: string;
  readonly config: CentralConfig;
  readonly hasher: RefHasher;
  insertMembers(members: readonly TestMember[]): Promise<void>;
}

export function registrySite(dir: string): RegistrySite {
  const centralConfig = writeLocalCentral(dir);
  const config = loadCentralConfig(centralConfig);
  const hasher = registryRefHasher(config);
  return {
    centralConfig,
    config,
    hasher,
    insertMembers: (members) => withRegistry(config, (db) => insertMembers(db, hasher, members)),
  };
}

/** `count` people in `unit`, ID numbers 046090000000 + offset. */
export function people(count: number, unit: string, scope = 'hue', offset = 0): TestMember[] {
  return Array.from({ length: count }, (_, i) => ({
    idNumber: String(46_090_000_000 + offset + i).padStart(12, '0'),
    name: `Nguyễn Văn ${String(offset + i).padStart(6, '0')}`,
    unit,
    scope,
  }));
}

export interface CardRow {
  readonly cardRef: Buffer;
  readonly cardId: string;
  readonly memberId: number;
  readonly issuedAtMs: number;
  readonly revokedAtMs: number | null;
}

/** Every card, in issue order (issueCards stores a batch by member). */
export function cardRows(db: RegistryDb): Promise<CardRow[]> {
  return db.all<CardRow>(
    `SELECT card_ref AS "cardRef", card_id AS "cardId", member_id AS "memberId", issued_at_ms AS "issuedAtMs", revoked_at_ms AS "revokedAtMs"
     FROM cards ORDER BY issued_at_ms, member_id`,
  );
}
