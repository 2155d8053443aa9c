import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListPublishError } from '../../../broker/lists/errors.js';
import { publishListInThread } from '../../../broker/lists/publishThread.js';
import { openCentralDb } from '../../../broker/store/sqliteSchema.js';
import { verifySignedList } from '../../../protocol/lists/index.js';
import { loopTurnsDuring } from '../../helpers/loopTurns.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMembers, expectedList } from './registryRows.js';

const scope = 'site-a';
const tempDir = useTempDir('qrgate-publish-thread-');

describe("publishing from the central's own process (the console's publish now)", () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  it('publishes in a thread of its own while the caller goes on, with the same list the CLI would write', async () => {
    const dataDir = tempDir();
    const dbFile = join(dataDir, 'central.db');
    const db = openCentralDb(dbFile, { synchronous: 'NORMAL' });
    addMembers(db, scope, 30_000);
    let result: Awaited<ReturnType<typeof publishListInThread>> | null = null;
    const turns = await loopTurnsDuring(async () => {
      result = await publishListInThread(dbFile, { dataDir, scope, privateKey, now: () => Date.parse('2026-12-01T00:00:00Z') });
    });
    expect(result).toMatchObject({ scope, version: 1, count: 30_000, issuedAt: '2026-12-01T00:00:00.000Z' });
    // Building and signing 30,000 entries took the thread a while; the caller's loop kept turning.
    expect(turns).toBeGreaterThan(0);
    const list = verifySignedList(readFileSync(join(dataDir, 'lists', scope, 's1.qgl')), { trustedKeys: [publicKey], scope });
    expect(new Map([...list.entries()].map((e) => [e.ref.toString('hex'), e.status]))).toEqual(expectedList(db, scope));
    db.close();
  });

  it("refuses as the CLI does, with the problem's code intact across the thread", async () => {
    const dataDir = tempDir();
    const dbFile = join(dataDir, 'central.db');
    openCentralDb(dbFile, { synchronous: 'NORMAL' }).close();
    const err = await publishListInThread(dbFile, { dataDir, scope: 'site-nobody', privateKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListPublishError);
    expect(err).toMatchObject({ code: 'empty-scope', message: expect.stringContaining('site-nobody') });
  });
});
