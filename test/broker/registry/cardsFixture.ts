import { loadCentralConfig, type CentralConfig } from '../../../broker/config.js';
import { openRegistryDb, registryRefHasher } from '../../../broker/registry/registryDb.js';
import type { CentralDb } from '../../../broker/store/sqliteSchema.js';
import type { RefHasher } from '../../../protocol/credentialRef.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';

/**
 * A central folder with registered people, written straight into the `members` table (the
 * cards tests do not depend on `qrgate members import`).
 */

export interface TestMember {
  /** 12-digit CCCD number; only its citizen ref and masked form are stored. */
  readonly idNumber: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
  readonly status?: 'allow' | 'deny' | 'check';
}

export interface RegistrySite {
  readonly centralConfig: string;
  readonly config: CentralConfig;
  readonly hasher: RefHasher;
  open(): CentralDb;
  insertMembers(members: readonly TestMember[]): void;
}

export function registrySite(dir: string): RegistrySite {
  const centralConfig = writeLocalCentral(dir);
  const config = loadCentralConfig(centralConfig);
  const hasher = registryRefHasher(config);
  const open = () => openRegistryDb(config);
  return {
    centralConfig,
    config,
    hasher,
    open,
    insertMembers(members) {
      const db = open();
      try {
        const insert = db.prepare(`INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
          VALUES (?, ?, ?, '0900000000', 'Huế', ?, ?, ?, 0, 0)`);
        db.transaction(() => {
          for (const m of members) insert.run(hasher('citizen', m.idNumber), `*********${m.idNumber.slice(-3)}`, m.name, m.unit, m.scope, m.status ?? 'allow');
        })();
      } finally {
        db.close();
      }
    },
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

export function cardRows(db: CentralDb): CardRow[] {
  return db
    .prepare<[], CardRow>(
      'SELECT card_ref AS cardRef, card_id AS cardId, member_id AS memberId, issued_at_ms AS issuedAtMs, revoked_at_ms AS revokedAtMs FROM cards ORDER BY rowid',
    )
    .all();
}
