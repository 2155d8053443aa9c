import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ListPublishError } from '../../../broker/lists/errors.js';
import { publishListInThread } from '../../../broker/lists/publishThread.js';
import { verifySignedList } from '../../../protocol/lists/index.js';
import { loopTurnsDuring } from '../../helpers/loopTurns.js';
import { describeOnEachRegistry } from '../../helpers/registryEngines.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMembers, expectedList } from './registryRows.js';

const scope = 'site-a';
const tempDir = useTempDir('qrgate-publish-thread-');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

describeOnEachRegistry("publishing from the central's own process (the console's publish now)", (registry, _engine, location) => {
  it('publishes in a thread of its own, on a registry it opens itself, while the caller goes on, with the same list the CLI would write', async () => {
    const dataDir = tempDir();
    await addMembers(registry(), scope, 30_000);
    let result: Awaited<ReturnType<typeof publishListInThread>> | null = null;
    const turns = await loopTurnsDuring(async () => {
      result = await publishListInThread(location(), { dataDir, scope, privateKey, now: () => Date.parse('2026-12-01T00:00:00Z') });
    });
    expect(result).toMatchObject({ scope, version: 1, count: 30_000, issuedAt: '2026-12-01T00:00:00.000Z' });
    // Building and signing 30,000 entries took the thread a while; the caller's loop kept turning.
    expect(turns).toBeGreaterThan(0);
    const list = verifySignedList(readFileSync(join(dataDir, 'lists', scope, 's1.qgl')), { trustedKeys: [publicKey], scope });
    expect(new Map([...list.entries()].map((e) => [e.ref.toString('hex'), e.status]))).toEqual(await expectedList(registry(), scope));
    // Recorded in the registry the caller reads.
    expect(await registry().all('SELECT scope, version, entry_count FROM list_versions')).toEqual([{ scope, version: 1, entry_count: 30_000 }]);
  });

  it("refuses as the CLI does, with the problem's code intact across the thread", async () => {
    const dataDir = tempDir();
    const err = await publishListInThread(location(), { dataDir, scope: 'site-nobody', privateKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListPublishError);
    expect(err).toMatchObject({ code: 'empty-scope', message: expect.stringContaining('site-nobody') });
  });
});
