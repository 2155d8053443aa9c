import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { membersByRefsSql } from '../../../broker/registry/membersByRefs.js';
import { openCentralDb } from '../../../broker/store/sqliteSchema.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { MemoryCentralStore } from '../../fakes/memoryCentralStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { describeMemberJoin, type RegisteredMember } from '../store/centralStoreContract.js';

const tempDir = useTempDir('qrgate-members-join-');

/** Writes a member and their cards the way the registry commands do: straight into the file. */
function registerInSqlite(file: string, member: RegisteredMember): void {
  const db = openCentralDb(file, { synchronous: 'NORMAL' });
  try {
    const { summary: m } = member;
    const { lastInsertRowid } = db
      .prepare(
        `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
         VALUES (unhex(?), ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
      )
      .run(member.idRef, m.idMasked, m.name, m.phone, m.address, m.unit, m.scope, m.status);
    for (const card of member.cards) {
      db.prepare('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) VALUES (unhex(?), ?, ?, 0, ?)').run(
        card.ref,
        `card-${card.ref.slice(-8)}`,
        lastInsertRowid,
        card.revoked ? 1 : null,
      );
    }
  } finally {
    db.close();
  }
}

describeMemberJoin('sqlite', async () => {
  const file = join(tempDir(), 'central.db');
  return { store: new SqliteCentralStore({ file, logger: silentLogger() }), register: async (member) => registerInSqlite(file, member) };
});

describeMemberJoin('memory', async () => {
  const store = new MemoryCentralStore();
  return {
    store,
    register: async (member) => {
      for (const ref of [member.idRef, ...member.cards.map((card) => card.ref)]) store.members.set(ref, member.summary);
    },
  };
});

describe('SqliteCentralStore.membersByRefs', () => {
  it('looks every ref of a page up through an index, never scanning members or cards', () => {
    const db = openCentralDb(join(tempDir(), 'central.db'), { synchronous: 'NORMAL' });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${membersByRefsSql}`).all('[]') as { detail: string }[]).map((row) => row.detail);
      expect(plan).toContain('SEARCH m USING INDEX sqlite_autoindex_members_1 (id_ref=?)');
      expect(plan).toContain('SEARCH c USING INDEX sqlite_autoindex_cards_1 (card_ref=?)');
      expect(plan.filter((step) => /SCAN (m|c)\b/.test(step))).toEqual([]);
    } finally {
      db.close();
    }
  });
});
