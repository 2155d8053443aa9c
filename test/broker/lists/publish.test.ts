import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { lockScope } from '../../../broker/lists/listFiles.js';
import { maxChainDeltas } from '../../../broker/lists/manifestBuilder.js';
import { publishList, type PublishListOptions } from '../../../broker/lists/publish.js';
import { scopePageRows } from '../../../broker/lists/scopeDiff.js';
import { chunkOf, verifyManifest, verifySignedList, type ListHeader } from '../../../protocol/lists/index.js';
import { describeOnEachRegistry } from '../../helpers/registryEngines.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMember, addMembers, expectedList, issueCard, issueCards, removeMember, revokeCard, setStatus } from './registryRows.js';

const scope = 'site-a';
const dayMs = 86_400_000;

const tempDir = useTempDir('qrgate-lists-publish-');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

describeOnEachRegistry('publishList: the next version of a scope from the registry', (registry) => {
  function setup() {
    const dataDir = tempDir();
    const db = registry();
    const dir = join(dataDir, 'lists', scope);
    const publish = (extra: Partial<PublishListOptions> = {}) => publishList(db, { dataDir, scope, privateKey, ...extra });
    const file = (name: string) => readFileSync(join(dir, `${name}.qgl`));
    const list = (name: string) => verifySignedList(file(name), { trustedKeys: [publicKey], scope });
    const entries = (name: string) => [...list(name).entries()].map((e) => [e.ref.toString('hex'), e.status] as const);
    const manifest = () => verifyManifest(readFileSync(join(dir, 'manifest.json')), { trustedKeys: [publicKey], scope, installedVersion: null }).manifest;
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.qgl')).sort();
    return { dataDir, db, dir, publish, file, list, entries, manifest, files };
  }

  it('first publish: a signed snapshot of every member and card (a revoked card as revoked), sorted by ref, and a manifest without deltas', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 40);
    await setStatus(s.db, people[0]!, 'deny');
    await setStatus(s.db, people[1]!, 'check');
    const card = await issueCard(s.db, people[2]!);
    const revoked = await issueCard(s.db, people[3]!);
    await revokeCard(s.db, revoked);
    await issueCard(s.db, people[0]!); // a denied member's card is denied too
    await addMembers(s.db, 'other-site', 5);

    const nowMs = Date.parse('2026-03-01T08:00:00Z');
    const result = await s.publish({ now: () => nowMs, expiresInDays: 3 });

    expect(result).toMatchObject({ scope, version: 1, count: 43, added: 43, changed: 0, removed: 0, deltaBytes: null, chain: [] });
    const snapshot = s.list('s1');
    expect(snapshot.header).toMatchObject<Partial<ListHeader>>({
      format: 2, kind: 'snapshot', scope, version: 1, count: 43, issuedAt: '2026-03-01T08:00:00.000Z', expiresAt: '2026-03-04T08:00:00.000Z',
    });
    const entries = s.entries('s1');
    expect(new Map(entries)).toEqual(await expectedList(s.db, scope));
    expect(entries.map(([ref]) => ref)).toEqual(entries.map(([ref]) => ref).sort());
    expect(new Map(entries).get(card.toString('hex'))).toBe('allow');
    expect(new Map(entries).get(revoked.toString('hex'))).toBe('revoked');
    expect(result.snapshotBytes).toBe(s.file('s1').length);

    const manifest = s.manifest();
    expect(manifest).toMatchObject({ scope, version: 1, count: 43, deltas: [], snapshot: { name: 's1', version: 1, resultCount: 43 } });
    expect(s.files()).toEqual(['s1.qgl']);
    expect(await s.db.all('SELECT version, entry_count, snapshot_file, delta_file, delta_count FROM list_versions')).toEqual([
      { version: 1, entry_count: 43, snapshot_file: 's1.qgl', delta_file: null, delta_count: null },
    ]);
    // The signed file is the record of what was published: the registry holds no copy of its entries.
    await expect(s.db.value('SELECT count(*) FROM list_published')).rejects.toThrow(/list_published/);
  });

  it('second publish: the delta holds exactly the additions, changes and removals, and v1 + delta = the v2 snapshot', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 30);
    const oldCard = await issueCard(s.db, people[5]!);
    const lostCard = await issueCard(s.db, people[6]!);
    await s.publish();
    const v1 = new Map<string, string>(s.entries('s1'));

    const newcomer = await addMember(s.db, scope, 'check');
    await setStatus(s.db, people[0]!, 'deny');
    await setStatus(s.db, people[1]!, 'check');
    await removeMember(s.db, people[2]!);
    await revokeCard(s.db, oldCard); // a reissue: the old card goes, a new one comes
    const newCard = await issueCard(s.db, people[5]!);
    await revokeCard(s.db, lostCard);
    const result = await s.publish();

    expect(result).toMatchObject({ version: 2, added: 2, changed: 4, removed: 1, count: 33 });
    const delta = s.list('d1-2');
    expect(delta.header).toMatchObject({ format: 2, kind: 'delta', version: 2, baseVersion: 1, count: 7 });
    expect(new Map(s.entries('d1-2'))).toEqual(
      new Map([
        [newcomer.idRef.toString('hex'), 'check'],
        [newCard.toString('hex'), 'allow'],
        [people[0]!.idRef.toString('hex'), 'deny'],
        [people[1]!.idRef.toString('hex'), 'check'],
        [people[2]!.idRef.toString('hex'), 'remove'],
        [oldCard.toString('hex'), 'revoked'],
        [lostCard.toString('hex'), 'revoked'],
      ]),
    );
    expect(result.deltaBytes).toBe(s.file('d1-2').length);

    // The terminal's view: v1 with the delta applied is exactly the v2 snapshot.
    const applied = new Map(v1);
    for (const [ref, status] of s.entries('d1-2')) {
      if (status === 'remove') applied.delete(ref);
      else applied.set(ref, status);
    }
    expect(new Map(s.entries('s2'))).toEqual(applied);
    expect(applied).toEqual(await expectedList(s.db, scope));

    const manifest = s.manifest();
    expect(manifest).toMatchObject({ version: 2, count: result.count, snapshot: { name: 's2' } });
    expect(manifest.deltas).toMatchObject([{ name: 'd1-2', version: 2, baseVersion: 1, resultCount: result.count, bytes: result.deltaBytes }]);
    // The old snapshot is no longer offered, so it is gone.
    expect(s.files()).toEqual(['d1-2.qgl', 's2.qgl']);
    expect(await s.db.get('SELECT version, delta_file, delta_count FROM list_versions WHERE version = 2')).toEqual({
      version: 2, delta_file: 'd1-2.qgl', delta_count: 7,
    });
  });

  it('publishes the whole snapshot with no delta when the last one cannot be read back, and the chain resumes after', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 12);
    await s.publish();
    // Deleted by hand: a delta guessed from nothing would desynchronise every terminal.
    rmSync(join(s.dir, 's1.qgl'));
    await setStatus(s.db, people[0]!, 'deny');
    const second = await s.publish();
    expect(second).toMatchObject({ version: 2, count: 12, deltaBytes: null });
    expect(second.previousSnapshotUnreadable).toContain('s1.qgl');
    expect(s.manifest()).toMatchObject({ version: 2, deltas: [] });
    expect(new Map(s.entries('s2'))).toEqual(await expectedList(s.db, scope));

    // Signed by another key (the authority's key replaced): refused as a base the same way.
    const other = generateKeyPairSync('ed25519');
    await setStatus(s.db, people[1]!, 'check');
    expect(await s.publish({ privateKey: other.privateKey })).toMatchObject({ version: 3, deltaBytes: null, previousSnapshotUnreadable: expect.stringContaining('s2.qgl') });

    await setStatus(s.db, people[2]!, 'deny');
    const fourth = await s.publish({ privateKey: other.privateKey });
    expect(fourth).toMatchObject({ version: 4, added: 0, changed: 1, removed: 0 });
    expect(fourth.previousSnapshotUnreadable).toBeUndefined();
    const delta = verifySignedList(s.file('d3-4'), { trustedKeys: [other.publicKey], scope });
    expect([...delta.entries()].map((e) => [e.ref.toString('hex'), e.status])).toEqual([[people[2]!.idRef.toString('hex'), 'deny']]);
  });

  it('publishes an empty delta when nothing changed: the new version only moves the expiry', async () => {
    const s = setup();
    await addMembers(s.db, scope, 10);
    await s.publish({ now: () => Date.parse('2026-03-01T00:00:00Z') });
    const result = await s.publish({ now: () => Date.parse('2026-03-05T00:00:00Z') });
    expect(result).toMatchObject({ version: 2, count: 10, added: 0, changed: 0, removed: 0 });
    expect(s.list('d1-2').header).toMatchObject({ count: 0, expiresAt: new Date(Date.parse('2026-03-05T00:00:00Z') + 7 * dayMs).toISOString() });
    expect(s.manifest().expiresAt).toBe('2026-03-12T00:00:00.000Z');
  });

  it('keeps the delta chain shorter than the snapshot in bytes and at most 30 deltas long, and deletes what it drops', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 2000);
    await s.publish();
    for (let i = 0; i < maxChainDeltas + 3; i++) {
      await setStatus(s.db, people[i]!, 'deny');
      await s.publish();
    }
    const last = maxChainDeltas + 4;
    const manifest = s.manifest();
    expect(manifest.version).toBe(last);
    expect(manifest.deltas.map((d) => d.name)).toEqual(Array.from({ length: maxChainDeltas }, (_, i) => `d${last - maxChainDeltas + i}-${last - maxChainDeltas + i + 1}`));
    expect(s.files()).toEqual([...manifest.deltas.map((d) => `${d.name}.qgl`), `s${last}.qgl`].sort());

    // A change to 60% of the people: such a delta outweighs half the snapshot, so two cannot both be offered.
    for (const round of ['check', 'allow'] as const) {
      await s.db.run('UPDATE members SET status = ? WHERE member_id IN (SELECT member_id FROM members ORDER BY member_id DESC LIMIT 1200)', [round]);
      await s.publish();
    }
    const heavy = s.manifest();
    expect(heavy.deltas.map((d) => d.name)).toEqual([`d${last + 1}-${last + 2}`]);
    expect(s.files()).toEqual([`d${last + 1}-${last + 2}.qgl`, `s${last + 2}.qgl`]);
  });

  it('reads a scope larger than one keyset page of members and of cards: every entry once, in ref order', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, scopePageRows + 500);
    await issueCards(s.db, people.slice(0, scopePageRows + 200));
    await s.db.run(`UPDATE members SET status = 'deny' WHERE member_id IN (${people.slice(0, 300).map((p) => p.memberId).join(', ')})`);
    await addMembers(s.db, 'other-site', 50);
    const result = await s.publish();
    const entries = s.entries('s1');
    expect(result).toMatchObject({ version: 1, count: 2 * scopePageRows + 700 });
    expect(entries.map(([ref]) => ref)).toEqual(entries.map(([ref]) => ref).sort());
    expect(new Map(entries)).toEqual(await expectedList(s.db, scope));
  });

  it('cuts files into chunks whose hashes the manifest lists', async () => {
    const s = setup();
    await addMembers(s.db, scope, 100);
    await s.publish({ chunkBytes: 1024 });
    const manifest = s.manifest();
    const bytes = s.file('s1');
    expect(manifest.chunkBytes).toBe(1024);
    expect(manifest.snapshot.chunks).toHaveLength(Math.ceil(bytes.length / 1024));
    expect(Buffer.concat(manifest.snapshot.chunks.map((_, i) => chunkOf(bytes, i, 1024))).equals(bytes)).toBe(true);
  });

  it('refuses a scope nobody has and that was never published, writing nothing', async () => {
    const s = setup();
    await addMembers(s.db, scope, 3);
    await expect(publishList(s.db, { dataDir: s.dataDir, scope: 'site-typo', privateKey })).rejects.toThrow(
      expect.objectContaining({ code: 'empty-scope', message: expect.stringContaining('"site-typo"') }),
    );
    expect(existsSync(join(s.dataDir, 'lists', 'site-typo'))).toBe(false);
    expect(await s.db.value('SELECT count(*) FROM list_versions')).toBe(0);
  });

  it('publishes an emptied scope: everyone removed is a delta of removals', async () => {
    const s = setup();
    const people = await addMembers(s.db, scope, 4);
    await s.publish();
    for (const person of people) await removeMember(s.db, person);
    expect(await s.publish()).toMatchObject({ version: 2, count: 0, removed: 4 });
    expect(s.list('s2').header.count).toBe(0);
  });

  it('refuses a bad scope or expiry before touching anything', async () => {
    const s = setup();
    await expect(publishList(s.db, { dataDir: s.dataDir, scope: 'Bad/Scope', privateKey })).rejects.toThrow(expect.objectContaining({ code: 'invalid-option' }));
    await expect(s.publish({ expiresInDays: 0 })).rejects.toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(existsSync(join(s.dataDir, 'lists'))).toBe(false);
  });

  it('refuses to run while another publish of the same scope holds its lock, and records nothing', async () => {
    const s = setup();
    await addMembers(s.db, scope, 3);
    const release = lockScope(s.dataDir, scope);
    try {
      await expect(s.publish()).rejects.toThrow(expect.objectContaining({ code: 'concurrent-publish' }));
    } finally {
      release();
    }
    expect(await s.db.value('SELECT count(*) FROM list_versions')).toBe(0);
    expect((await s.publish()).version).toBe(1);
  });
});
