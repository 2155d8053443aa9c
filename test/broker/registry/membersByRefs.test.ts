import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { membersByRefsSql } from '../../../broker/registry/membersByRefs.js';
import { openCentralDb } from '../../../broker/store/sqliteSchema.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { registerMember } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { describeMemberJoin } from '../store/centralStoreContract.js';

const tempDir = useTempDir('qrgate-members-join-');

describeMemberJoin('sqlite', async () => {
  const file = join(tempDir(), 'central.db');
  return { store: new SqliteCentralStore({ file, logger: silentLogger() }), register: async (member) => registerMember(file, member) };
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
